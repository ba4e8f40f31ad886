using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Gateway.Relay;

/// <summary>
/// Relays to the upstream MTA with MailKit over a socket with TCP_NODELAY (MailKit leaves Nagle
/// on, which costs ~40 ms per message against delayed ACKs). One connection per copy for now;
/// connection reuse is the delivery issue's work.
/// </summary>
public sealed class SmtpRelay(IOptions<GatewayOptions> options) : IRelay
{
    private static readonly FormatOptions Wire = CreateWireFormat();
    private readonly RelayOptions _relay = options.Value.Relay;
    private readonly string _heloName = options.Value.Relay.HeloName ?? options.Value.Smtp.ServerName;
    private readonly X509Certificate2? _upstreamAuthority = string.IsNullOrEmpty(options.Value.Relay.CaCertificatePath)
        ? null
        : X509CertificateLoader.LoadCertificateFromFile(options.Value.Relay.CaCertificatePath);

    public async Task<IReadOnlyList<RecipientRelayResult>> SendAsync(string copyName, string mailFrom, IReadOnlyList<string> recipients, Stream content, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_relay.Timeout * 5);
        var token = timeout.Token;
        using var client = new RelayClient { LocalDomain = _heloName, Timeout = (int)_relay.Timeout.TotalMilliseconds };
        try
        {
            var message = await MimeMessage.LoadAsync(content, persistent: true, token);
            await ConnectAsync(client, token);
            var envelopeRecipients = recipients.Select(r => new MailboxAddress(string.Empty, r)).ToList();
            var sender = new MailboxAddress(string.Empty, mailFrom);
            var reply = await client.SendAsync(Wire, message, sender, envelopeRecipients, token);
            await client.DisconnectAsync(quit: true, CancellationToken.None);
            var rejected = client.Rejected.ToDictionary(r => r.Recipient, r => r.Response, StringComparer.OrdinalIgnoreCase);
            return recipients.Select(r => rejected.TryGetValue(r, out var response)
                    ? new RecipientRelayResult(r, Classify((int)response.StatusCode), $"{(int)response.StatusCode} {response.Response}")
                    : new RecipientRelayResult(r, RelayOutcome.Accepted, "250 " + reply))
                .ToList();
        }
        catch (SmtpCommandException e) when (e.ErrorCode == SmtpErrorCode.RecipientNotAccepted || e.ErrorCode == SmtpErrorCode.SenderNotAccepted || e.ErrorCode == SmtpErrorCode.MessageNotAccepted)
        {
            // When no recipient is accepted MailKit throws; the recorded rejections still say why for each.
            var rejected = client.Rejected.ToDictionary(r => r.Recipient, r => r.Response, StringComparer.OrdinalIgnoreCase);
            return recipients.Select(r => rejected.TryGetValue(r, out var response)
                    ? new RecipientRelayResult(r, Classify((int)response.StatusCode), $"{(int)response.StatusCode} {response.Response}")
                    : new RecipientRelayResult(r, Classify((int)e.StatusCode), $"{(int)e.StatusCode} {e.Message}"))
                .ToList();
        }
        catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or IOException or SocketException
                                      or SslHandshakeException or AuthenticationException or OperationCanceledException or ServiceNotConnectedException
                                      or NotSupportedException)
        {
            var reply = e is OperationCanceledException && !cancellationToken.IsCancellationRequested
                ? $"451 4.4.2 upstream {_relay.Host}:{_relay.Port} timed out"
                : $"451 4.4.1 upstream {_relay.Host}:{_relay.Port}: {e.Message}";
            if (e is SmtpCommandException command && (int)command.StatusCode >= 500)
                return recipients.Select(r => new RecipientRelayResult(r, RelayOutcome.Permanent, $"{(int)command.StatusCode} {command.Message}")).ToList();
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) throw;
            return recipients.Select(r => new RecipientRelayResult(r, RelayOutcome.Temporary, reply)).ToList();
        }
    }

    private async Task ConnectAsync(RelayClient client, CancellationToken token)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_relay.Host, _relay.Port, token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var tls = _relay.TlsMode switch
        {
            RelayTlsMode.None => SecureSocketOptions.None,
            RelayTlsMode.Required => SecureSocketOptions.StartTls,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        };
        if (_relay.TlsMode == RelayTlsMode.Opportunistic)
            client.ServerCertificateValidationCallback = (_, _, _, _) => true; // opportunistic: encrypt against passive listeners only
        else if (_relay.TlsMode == RelayTlsMode.Required && _upstreamAuthority is not null)
            client.ServerCertificateValidationCallback = (_, certificate, _, errors) => UpstreamValidation.Validate(certificate, errors, _upstreamAuthority);
        await client.ConnectAsync(socket, _relay.Host, _relay.Port, tls, token);
        if (!string.IsNullOrEmpty(_relay.Username)) await client.AuthenticateAsync(_relay.Username, _relay.Password!, token);
    }

    private static RelayOutcome Classify(int code) => code >= 500 ? RelayOutcome.Permanent : RelayOutcome.Temporary;

    private static FormatOptions CreateWireFormat()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.International = false; // true would re-fold headers and change signed bytes
        return options;
    }
}
