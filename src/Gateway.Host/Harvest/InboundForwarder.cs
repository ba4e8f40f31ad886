using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Relay;

namespace Gateway.Harvest;

/// <summary>
/// Passes an inbound message on, byte for byte, to the internal MTA before the sender gets its
/// reply: the sender's MTA keeps responsibility until the internal MTA accepted, so nothing is
/// spooled here and nothing can be lost. The reply is the upstream's own.
/// </summary>
/// <param name="heloName">What the internal MTA is told in EHLO (Smtp:ServerName): a name it may require to be fully qualified.</param>
internal sealed class InboundForwarder(HarvestOptions options, string heloName)
{
    /// <returns>The SMTP code and text to give the sender.</returns>
    public async Task<(int Code, string Text)> ForwardAsync(byte[] message, string mailFrom, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
    {
        // The sender waits for our reply as long as the internal MTA may take for its own (both RFC
        // 5321's 10 minutes), so the forward gets what the sender allows, whatever the message's size.
        var allowed = options.Timeout * 3 > options.ForwardTimeout ? options.Timeout * 3 : options.ForwardTimeout;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(allowed);
        var host = new UpstreamHost(options.UpstreamHost, options.UpstreamPort);
        // The internal MTA on a trusted segment, as configured: plain SMTP, no AUTH, and whatever
        // of PIPELINING and CHUNKING it offers (Relay:* is about the outbound upstream, not this one).
        var settings = new UpstreamSettings(heloName, options.Timeout, RelayTlsMode.None, null, null, null, Chunking: true, Pipelining: true)
        {
            FinalReplyTimeout = allowed,
        };
        UpstreamSession? session = null;
        try
        {
            var content = RelayedContent.Scan(new MemoryStream(message, writable: false));
            if (EnvelopeMailbox.TryCreate(mailFrom) is null)
                return (553, $"5.1.7 the sender <{mailFrom}> cannot be written to the internal mail server");
            var (writable, unwritable) = EnvelopeMailbox.Partition(recipients);
            if (writable.Count == 0) return (553, "5.1.3 no recipient can be written to the internal mail server");
            session = await UpstreamSession.OpenAsync(host, settings, timeout.Token);
            var transaction = RelayTransaction.Plan(mailFrom, writable, session.Capabilities, content, dsn: null);
            var results = transaction.Unwritable ?? transaction.Results(await session.SendAsync(transaction.Mail, transaction.Recipients, content, timeout.Token), dsnPassedOn: false).ToList();
            var refused = results.Where(r => r.Outcome != RelayOutcome.Accepted).ToList();
            var unwritten = unwritable.Count;
            if (refused.Count == 0 && unwritten == 0) return (250, "2.0.0 passed on: " + Text(results[0].Reply));
            // One DATA reply covers every recipient: a partial refusal is returned as a refusal, so the
            // sender retries or bounces; the recipients that accepted may then get it twice, never zero
            // times. A temporary refusal wins over a permanent one: a 5xx would make the sender
            // bounce a recipient that only had to wait.
            if (refused.Count == 0) return (553, $"5.1.3 {unwritten} of {recipients.Count} recipients cannot be written to the internal mail server");
            var answer = refused.FirstOrDefault(r => r.Outcome == RelayOutcome.Temporary) ?? refused[0];
            return (int.Parse(answer.Reply.AsSpan(0, 3)), $"{Text(answer.Reply)} ({refused.Count + unwritten} of {recipients.Count} recipients refused upstream)");
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            return (451, $"4.4.1 internal mail server {options.UpstreamHost}:{options.UpstreamPort} unavailable, try again later");
        }
        finally
        {
            // QUIT after a refusal; a session a failure broke is closed without it.
            if (session is not null) await session.CloseAsync();
        }
    }

    private static string Text(string reply) => reply.Length > 4 ? reply[4..] : string.Empty;
}
