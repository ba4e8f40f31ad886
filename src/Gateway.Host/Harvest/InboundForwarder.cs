using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Relay;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Gateway.Harvest;

/// <summary>
/// Passes an inbound message on, byte for byte, to the internal MTA before the sender gets its
/// reply: the sender's MTA keeps responsibility until the internal MTA accepted, so nothing is
/// spooled here and nothing can be lost. The reply is the upstream's own.
/// </summary>
internal sealed class InboundForwarder(HarvestOptions options)
{
    private static readonly FormatOptions Wire = CreateWireFormat();

    /// <returns>The SMTP code and text to give the sender.</returns>
    public async Task<(int Code, string Text)> ForwardAsync(byte[] message, string mailFrom, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout * 3);
        using var client = new RelayClient { Timeout = (int)options.Timeout.TotalMilliseconds };
        try
        {
            var parsed = await MimeMessage.LoadAsync(new MemoryStream(message, writable: false), timeout.Token);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(options.UpstreamHost, options.UpstreamPort, timeout.Token);
            await client.ConnectAsync(socket, options.UpstreamHost, options.UpstreamPort, SecureSocketOptions.None, timeout.Token);
            var sender = EnvelopeMailbox.TryCreate(mailFrom) ?? throw new FormatException($"sender <{mailFrom}> cannot be written in an envelope");
            var reply = await client.SendAsync(Wire, parsed, sender, recipients.Select(r => EnvelopeMailbox.TryCreate(r)!).Where(r => r is not null), timeout.Token);
            await client.DisconnectAsync(true, CancellationToken.None);
            if (client.Rejected.Count == 0) return (250, "2.0.0 passed on: " + reply);
            // One DATA reply covers every recipient: a partial refusal is returned as a refusal, so the
            // sender retries or bounces; the recipients that accepted may then get it twice, never zero times.
            var worst = client.Rejected.OrderByDescending(r => (int)r.Response.StatusCode).First();
            return ((int)worst.Response.StatusCode, $"{worst.Response.Response} ({client.Rejected.Count} of {recipients.Count} recipients refused upstream)");
        }
        catch (SmtpCommandException e)
        {
            return ((int)e.StatusCode, e.Message);
        }
        catch (Exception e) when (e is SmtpProtocolException or IOException or SocketException or OperationCanceledException or ServiceNotConnectedException or FormatException or ParseException)
        {
            return (451, $"4.4.1 internal mail server {options.UpstreamHost}:{options.UpstreamPort} unavailable, try again later");
        }
    }

    private static FormatOptions CreateWireFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        format.International = false;
        return format;
    }
}
