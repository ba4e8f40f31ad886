using Gateway.Configuration;
using Gateway.Spool;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Gateway.Relay;

/// <summary>
/// Relays to the upstream MTA with MailKit over pooled connections (<see cref="UpstreamPool"/>,
/// sockets with TCP_NODELAY: MailKit leaves Nagle on, which costs ~40 ms per message against
/// delayed ACKs). Each recipient's answer is returned separately.
/// </summary>
public sealed class SmtpRelay : IRelay, IDisposable
{
    private static readonly FormatOptions Wire = RawMessage.Format(CreateWireFormat());
    private readonly RelayOptions _relay;
    private readonly UpstreamPool _pool;

    public SmtpRelay(IOptions<GatewayOptions> options, TimeProvider time, ILogger<SmtpRelay> logger)
    {
        _relay = options.Value.Relay;
        _pool = new UpstreamPool(_relay, _relay.HeloName ?? options.Value.Smtp.ServerName, time, logger);
    }

    public async Task<IReadOnlyList<RecipientRelayResult>> SendAsync(string copyName, string mailFrom, IReadOnlyList<string> recipients, Stream content, DsnParameters? dsn, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_relay.Timeout * 5);
        var token = timeout.Token;
        UpstreamConnection? connection = null;
        var reusable = false;
        var saysGoodbye = false; // a refusal leaves the session in a known state: QUIT, not a dropped connection
        var sender = EnvelopeMailbox.TryCreate(mailFrom);
        if (sender is null)
            return recipients.Select(r => new RecipientRelayResult(r, RelayOutcome.Permanent, $"553 5.1.7 the sender address <{mailFrom}> cannot be written in an SMTP envelope")).ToList();
        var listed = recipients; // the order dsn's per-recipient parameters follow
        var unaddressable = recipients.Where(r => EnvelopeMailbox.TryCreate(r) is null).ToList();
        var addressable = recipients.Except(unaddressable).ToList();
        var refused = unaddressable.Select(r => new RecipientRelayResult(r, RelayOutcome.Permanent, $"553 5.1.3 the address <{r}> cannot be written in an SMTP envelope")).ToList();
        if (addressable.Count == 0) return refused;
        recipients = addressable;
        try
        {
            using var message = RawMessage.Create(content);
            connection = await _pool.RentAsync(token);
            var client = connection.Client;
            client.StartMessage(dsn, listed);
            var envelopeRecipients = recipients.Select(r => EnvelopeMailbox.TryCreate(r)!).ToList();
            var reply = await client.SendAsync(Wire, message, sender, envelopeRecipients, token);
            reusable = true;
            var rejected = client.Rejected.ToDictionary(r => r.Recipient, r => r.Response, StringComparer.OrdinalIgnoreCase);
            return recipients.Select(r => rejected.TryGetValue(r, out var response)
                    ? new RecipientRelayResult(r, Classify((int)response.StatusCode), $"{(int)response.StatusCode} {response.Response}")
                    : new RecipientRelayResult(r, RelayOutcome.Accepted, "250 " + reply, client.PassesDsn))
                .Concat(refused).ToList();
        }
        catch (SmtpCommandException e) when (e.ErrorCode == SmtpErrorCode.RecipientNotAccepted || e.ErrorCode == SmtpErrorCode.SenderNotAccepted || e.ErrorCode == SmtpErrorCode.MessageNotAccepted)
        {
            saysGoodbye = true;
            // When no recipient is accepted MailKit throws; the recorded rejections still say why for each.
            var rejected = connection?.Client.Rejected.ToDictionary(r => r.Recipient, r => r.Response, StringComparer.OrdinalIgnoreCase) ?? [];
            return recipients.Select(r => rejected.TryGetValue(r, out var response)
                    ? new RecipientRelayResult(r, Classify((int)response.StatusCode), $"{(int)response.StatusCode} {response.Response}")
                    : new RecipientRelayResult(r, Classify((int)e.StatusCode), $"{(int)e.StatusCode} {e.Message}"))
                .Concat(refused).ToList();
        }
        catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or IOException or System.Net.Sockets.SocketException
                                      or SslHandshakeException or AuthenticationException or OperationCanceledException or ServiceNotConnectedException
                                      or NotSupportedException)
        {
            var upstream = connection?.Host.ToString() ?? _pool.Describe();
            var reply = e is OperationCanceledException && !cancellationToken.IsCancellationRequested
                ? $"451 4.4.2 upstream {upstream} timed out"
                : $"451 4.4.1 upstream {upstream}: {e.Message}";
            if (e is SmtpCommandException command && (int)command.StatusCode >= 500)
                return recipients.Select(r => new RecipientRelayResult(r, RelayOutcome.Permanent, $"{(int)command.StatusCode} {command.Message}")).Concat(refused).ToList();
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) throw;
            return recipients.Select(r => new RecipientRelayResult(r, RelayOutcome.Temporary, reply)).Concat(refused).ToList();
        }
        finally
        {
            if (connection is not null) _pool.Return(connection, reusable, saysGoodbye);
        }
    }

    public void Dispose() => _pool.Dispose();

    private static RelayOutcome Classify(int code) => code >= 500 ? RelayOutcome.Permanent : RelayOutcome.Temporary;

    private static FormatOptions CreateWireFormat()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.International = false; // true would re-fold headers and change signed bytes
        return options;
    }
}
