using System.Globalization;

namespace Gateway.Relay;

/// <summary>The transaction: MAIL, the RCPTs and the copy, in as few round trips as the upstream allows.</summary>
internal sealed partial class UpstreamSession
{
    private static readonly byte[] DataCommand = "DATA\r\n"u8.ToArray();

    /// <summary>A copy up to this size goes in the same batch as its envelope; it fits the socket buffers.</summary>
    internal const int MaxChunkInBatch = 64 * 1024;

    /// <summary>
    /// One transaction. MAIL, the RCPTs and DATA (or BDAT with the message) go in one batch when
    /// the upstream offers PIPELINING; without it, each waits for its reply, and no data is sent
    /// once MAIL or every RCPT was refused.
    /// </summary>
    public async Task<TransactionReplies> SendAsync(string mail, IReadOnlyList<string> recipients, RelayedContent content, CancellationToken cancellationToken)
    {
        try
        {
            if (_broken) throw new UpstreamProtocolException("the session with the upstream is already broken");
            ThrowIfUnasked("the upstream");
            var chunking = _settings.Chunking && Capabilities.Chunking;
            var replies = Capabilities.Pipelining && _settings.Pipelining
                ? await SendPipelinedAsync(mail, recipients, content, chunking, cancellationToken)
                : await SendInStepsAsync(mail, recipients, content, chunking, cancellationToken);
            if (_replies.HasUnreadBytes) _broken = true; // the replies are read; more is out of step
            return replies;
        }
        catch
        {
            _broken = true;
            throw;
        }
    }

    private async Task<TransactionReplies> SendPipelinedAsync(string mail, IReadOnlyList<string> recipients, RelayedContent content, bool chunking, CancellationToken cancellationToken)
    {
        // A large copy waits for the envelope's replies, one round trip against the time its bytes
        // take: sent ahead, they would go to an upstream that refused every recipient.
        var chunkInBatch = chunking && content.Length <= MaxChunkInBatch;
        await WriteAsync(mail, cancellationToken);
        foreach (var recipient in recipients) await WriteAsync(recipient, cancellationToken);
        // The upstream reads the chunk even when it refused MAIL or every RCPT (RFC 3030 §2).
        if (chunkInBatch) await WriteChunkAsync(content, cancellationToken);
        else if (!chunking) await _stream.WriteAsync(DataCommand, cancellationToken);
        await _stream.FlushAsync(cancellationToken);

        var mailReply = Completion(await ReadReplyAsync(cancellationToken), "MAIL");
        var replies = new UpstreamReply?[recipients.Count];
        try
        {
            var accepted = 0;
            for (var i = 0; i < replies.Length; i++)
            {
                var reply = Completion(await ReadReplyAsync(cancellationToken), "RCPT");
                replies[i] = reply;
                if (reply.IsPositive) accepted++;
            }
            if (chunking && !chunkInBatch)
                return new TransactionReplies(mailReply, replies, mailReply.IsPositive && accepted > 0 && !_broken ? await SendChunkAsync(content, cancellationToken) : null);
            if (chunking) return new TransactionReplies(mailReply, replies, await ReadFinalReplyAsync("BDAT", cancellationToken));
            var data = await ReadReplyAsync(cancellationToken);
            if (data.Code != 354) return new TransactionReplies(mailReply, replies, RefusalOfData(data));
            if (!mailReply.IsPositive || accepted == 0)
            {
                // DATA accepted with nobody to deliver to: the message is not sent, and the empty one
                // that ends the DATA goes to no one (RFC 2920 §3.1).
                await _stream.WriteAsync(RelayedContent.EndOfData, cancellationToken);
                await _stream.FlushAsync(cancellationToken);
                await ReadReplyAsync(cancellationToken);
                return new TransactionReplies(mailReply, replies, null);
            }
            return new TransactionReplies(mailReply, replies, await SendDataAsync(content, cancellationToken));
        }
        // A broken reply is no interruption: the replies before it may be out of step already
        // (an upstream that mishandles PIPELINING), so none of them is trusted and the copy waits.
        catch (Exception e) when (IsInterruption(e))
        {
            return Interrupted(mailReply, replies, e);
        }
    }

    /// <summary>
    /// The connection broke after some replies came (closed, reset, timed out, or the caller's
    /// token ended the copy's time): those stand (a 550 to one RCPT is that recipient's answer,
    /// whatever happened next, e.g. Postfix's 421 after too many errors), and every recipient
    /// still without one waits for another try.
    /// </summary>
    private TransactionReplies Interrupted(UpstreamReply mailReply, UpstreamReply?[] replies, Exception cause)
    {
        _broken = true;
        var why = cause is OperationCanceledException ? "no end of the transaction within the time allowed for the copy" : cause.Message;
        return new TransactionReplies(mailReply, replies, null) { Interruption = why };
    }

    private static bool IsInterruption(Exception e) => e is OperationCanceledException || (e is IOException && e is not UpstreamProtocolException);

    private async Task<TransactionReplies> SendInStepsAsync(string mail, IReadOnlyList<string> recipients, RelayedContent content, bool chunking, CancellationToken cancellationToken)
    {
        var replies = new UpstreamReply?[recipients.Count];
        var mailReply = Completion(await CommandAsync(mail, cancellationToken), "MAIL");
        if (!mailReply.IsPositive) return new TransactionReplies(mailReply, replies, null);
        try
        {
            var accepted = 0;
            for (var i = 0; i < replies.Length && !_broken; i++)
            {
                replies[i] = Completion(await CommandAsync(recipients[i], cancellationToken), "RCPT");
                if (replies[i]!.Value.IsPositive) accepted++;
            }
            if (accepted == 0 || _broken) return new TransactionReplies(mailReply, replies, null);
            if (chunking) return new TransactionReplies(mailReply, replies, await SendChunkAsync(content, cancellationToken));
            var data = await CommandAsync("DATA\r\n", cancellationToken);
            return new TransactionReplies(mailReply, replies, data.Code == 354 ? await SendDataAsync(content, cancellationToken) : RefusalOfData(data));
        }
        // As in SendPipelinedAsync: a broken reply is no interruption.
        catch (Exception e) when (IsInterruption(e))
        {
            return Interrupted(mailReply, replies, e);
        }
    }

    /// <summary>
    /// DATA's answer when it is not 354: a refusal, or else a broken upstream. A 250 there would
    /// read as the message delivered with not a byte of it sent.
    /// </summary>
    private static UpstreamReply RefusalOfData(UpstreamReply reply) => reply.Code >= 400
        ? reply
        : throw new UpstreamProtocolException($"the upstream answered DATA with {reply} instead of 354 or a refusal");

    /// <summary>The whole copy as one chunk: `BDAT n LAST` and exactly n bytes.</summary>
    private async Task WriteChunkAsync(RelayedContent content, CancellationToken cancellationToken)
    {
        await WriteAsync($"BDAT {content.Length.ToString(CultureInfo.InvariantCulture)} LAST\r\n", cancellationToken);
        await content.WriteAsync(_stream, cancellationToken);
    }

    private async Task<UpstreamReply> SendChunkAsync(RelayedContent content, CancellationToken cancellationToken)
    {
        await WriteChunkAsync(content, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
        return await ReadFinalReplyAsync("BDAT", cancellationToken);
    }

    private async Task<UpstreamReply> SendDataAsync(RelayedContent content, CancellationToken cancellationToken)
    {
        await content.WriteDotStuffedAsync(_stream, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
        return await ReadFinalReplyAsync("the end of the data", cancellationToken);
    }

    /// <summary>
    /// The reply to the end of the data, waited for <see cref="UpstreamSettings.FinalReplyTimeout"/>
    /// (RFC 5321's 10 minutes) rather than Relay:Timeout: the upstream may hold it while it filters
    /// and queues the message, and a copy given up then may well be delivered, and again on each retry.
    /// </summary>
    private async Task<UpstreamReply> ReadFinalReplyAsync(string command, CancellationToken cancellationToken)
    {
        var perCommand = _transport.ReadTimeout;
        _transport.ReadTimeout = Milliseconds(_settings.FinalReplyTimeout);
        try
        {
            return Completion(await ReadReplyAsync(cancellationToken), command);
        }
        finally
        {
            // A session broken meanwhile is never used again, and may be closed already: nothing to restore.
            if (!_broken) _transport.ReadTimeout = perCommand;
        }
    }

    /// <summary>
    /// A reply that must complete its command: 2xx, 4xx or 5xx. A 3xx there (354 to RCPT, say) is
    /// a broken upstream, not a refusal to retry nor an acceptance.
    /// </summary>
    private static UpstreamReply Completion(UpstreamReply reply, string command) => reply.IsIntermediate
        ? throw new UpstreamProtocolException($"the upstream answered {command} with {reply}")
        : reply;
}
