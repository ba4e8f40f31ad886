using System.Buffers;
using System.IO.Pipelines;
using Gateway.Outcomes;
using SmtpServer.Protocol;

namespace Gateway.Smtp;

/// <summary>
/// The input side of a connection, between the socket and SmtpServer. SmtpServer reads a command
/// line until CRLF with no length limit and reads DATA with no deadline, and its DATA reader only
/// finds the end marker when a CRLF precedes the dot, so an immediate "." hangs and a leading ".."
/// on the first line is not unstuffed. Here: command lines over 512 octets (2048 for MAIL and
/// RCPT, 12288 for AUTH and the answers to its 334) are discarded with
/// "500 5.5.2" and command lines ended by a bare LF with "550 5.5.2" (<see cref="RefuseLineAsync"/>),
/// DATA has an absolute deadline (a slowloris gets a 421), and DATA is handed over behind one CRLF
/// that <see cref="SpoolingMessageStore"/> removes again, which makes the first line like every
/// other. Only CRLF.CRLF ever ends DATA: that search stays SmtpServer's, except
/// for data over Smtp:MaxMessageSize, which is dropped here up to its final dot (see
/// <see cref="RefuseOversizedAsync"/>), so the client gets its 552 after the dot, as from Postfix.
/// A MAIL or RCPT command line SmtpServer consumes is kept for <see cref="EnvelopeFilter"/>
/// (<see cref="SmtpConnectionState.EnvelopeLine"/>): SmtpServer drops RCPT parameters (NOTIFY,
/// ORCPT) and does not show MAIL's to the filter (RET, ENVID). An AUTH response SmtpServer could
/// not decode, or a PLAIN message it could not split, is refused before it reads it (<see cref="AuthResponse"/>),
/// and so is a MAIL or RCPT line SmtpServer would misread (<see cref="RefuseWhatSmtpServerWouldMisread"/>).
/// </summary>
internal sealed class CommandLineReader(PipeReader inner, SmtpConnectionState state, ReplyStream replies) : PipeReader
{
    private static readonly ReadOnlyMemory<byte> Crlf = "\r\n"u8.ToArray();
    private static readonly byte[] DataEnd = "\r\n.\r\n"u8.ToArray();
    private const string LineTooLong = "500 5.5.2 Error: line too long";
    private static readonly string BareLineFeed = Failures.Reply(FailureKind.BareLineFeed).ToString();

    private PrefixedChain? _chain;

    private bool _discardingLine;

    /// <summary>The last AUTH line let through asked for PLAIN: an answer to its 334 is a whole PLAIN message.</summary>
    private bool _plainExchange;
    private ReadOnlySequence<byte> _commandBuffer;
    private ReadOnlySequence<byte> _innerBuffer;
    private ReadOnlySequence<byte> _outerBuffer;
    private int _prefixInOuter;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (state.Closed) return new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true);
            var result = state.InData ? await ReadDataAsync(cancellationToken)
                : state.AwaitingAuthAnswer ? await ReadAuthAnswerAsync(cancellationToken)
                : await inner.ReadAsync(cancellationToken);
            if (state.Closed) return new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true);
            if (state.InData)
            {
                if (!MessageSize.CannotFit(result.Buffer.Length, state.Limits.MaxMessageSize)) return WithPrefix(result);
                return await RefuseOversizedAsync(result, cancellationToken);
            }
            _chain = null;
            _prefixInOuter = 0;
            if (await RefuseLineAsync(result, cancellationToken)) continue;
            RefuseWhatSmtpServerWouldMisread(result.Buffer);
            _commandBuffer = result.Buffer;
            return result;
        }
    }

    private async ValueTask<ReadResult> ReadDataAsync(CancellationToken cancellationToken)
    {
        if (await ReadBeforeAsync(state.DataDeadline, cancellationToken) is { } result) return result;
        await replies.CloseWithAsync(new SessionClosure(
            "the data did not end within Gateway:Smtp:DataTimeout",
            $"421 4.4.2 {state.Limits.ServerName} Error: timeout exceeded while receiving data"), CancellationToken.None);
        return new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true);
    }

    /// <summary>
    /// SmtpServer reads the answer to its 334 with the session's token alone, not the command
    /// timeout it gives a command line: a client silent there kept its connection for
    /// Smtp:SessionTimeout. It throws once the closure is sent: an end of input would be taken for
    /// an empty answer, and SmtpServer would go on to check a password nobody gave.
    /// </summary>
    private async ValueTask<ReadResult> ReadAuthAnswerAsync(CancellationToken cancellationToken)
    {
        if (await ReadBeforeAsync(state.AuthAnswerDeadline, cancellationToken) is { } result) return result;
        var closure = new SessionClosure("no answer to a 334 within Gateway:Smtp:CommandTimeout", state.Limits.TimeoutReply);
        await replies.CloseWithAsync(closure, CancellationToken.None);
        throw closure.EndOfSession();
    }

    /// <summary>The next read, or null when <paramref name="deadline"/> passed first (not when the session was cancelled).</summary>
    private async ValueTask<ReadResult?> ReadBeforeAsync(DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var remaining = deadline - DateTimeOffset.UtcNow;
        using var timer = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            return await inner.ReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Data that cannot fit Smtp:MaxMessageSize: dropped as it arrives, up to and with its final dot
    /// (under the DATA deadline; no more is held than <see cref="MessageSize.CannotFit"/> allows),
    /// then 552 and the connection is closed. The client reads the 552 after its dot, as from Postfix, instead of failing to
    /// write into a closed connection (which a client such as Postfix takes for a temporary failure
    /// and retries for days). Data near the limit goes on to the store, which measures it exactly.
    /// </summary>
    private async ValueTask<ReadResult> RefuseOversizedAsync(ReadResult result, CancellationToken cancellationToken)
    {
        long dropped = 0;
        while (true)
        {
            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> _, DataEnd, advancePastDelimiter: true))
            {
                dropped += reader.Consumed;
                inner.AdvanceTo(reader.Position);
                // Audited as a refused message (no store hears of it), without the final ".CRLF".
                await replies.CloseWithAsync(new SessionClosure("message size exceeds Gateway:Smtp:MaxMessageSize", MessageSize.Reply.ToString())
                {
                    DroppedBytes = dropped - 3,
                }, CancellationToken.None);
                return new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true);
            }
            // The last bytes stay in the pipe: the final CRLF.CRLF may have begun in them.
            var kept = Math.Min(buffer.Length, DataEnd.Length - 1);
            dropped += buffer.Length - kept;
            inner.AdvanceTo(buffer.GetPosition(buffer.Length - kept), buffer.End);
            if (result.IsCompleted || result.IsCanceled) return new ReadResult(ReadOnlySequence<byte>.Empty, result.IsCanceled, isCompleted: true);
            result = await ReadDataAsync(cancellationToken);
            if (state.Closed) return new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true);
        }
    }

    /// <summary>
    /// True when the first line was refused and has been (or is being) dropped: too long, or ended
    /// by a bare LF. SmtpServer ends a line only at CRLF, so every line it gets must end there: a
    /// line ended by a bare LF was measured only up to that LF while SmtpServer kept everything after
    /// it, unmeasured, until some CRLF came, and the client waited the whole CommandTimeout for a
    /// reply. Refused like a bare LF in DATA (Postfix's smtpd_forbid_bare_newline = reject). Such a
    /// line that answers a 334 throws instead: it ends the AUTH exchange (<see cref="AuthResponse"/>).
    /// </summary>
    private async ValueTask<bool> RefuseLineAsync(ReadResult result, CancellationToken cancellationToken)
    {
        var buffer = result.Buffer;
        if (buffer.IsEmpty) return false;
        var lineEnd = buffer.PositionOf((byte)'\n');
        if (_discardingLine)
        {
            if (lineEnd is null)
            {
                inner.AdvanceTo(buffer.End);
                return true;
            }
            _discardingLine = false;
            inner.AdvanceTo(buffer.GetPosition(1, lineEnd.Value));
            return true;
        }
        var length = lineEnd is null ? buffer.Length : buffer.Slice(0, lineEnd.Value).Length + 1;
        var tooLong = length > Limit(buffer);
        if (!tooLong && (lineEnd is not { } end || EndsWithCr(buffer.Slice(0, end)))) return false;
        // Answered once per line, when the limit is passed; the rest of the line is dropped as it comes.
        if (lineEnd is null)
        {
            _discardingLine = true;
            inner.AdvanceTo(buffer.End);
        }
        else inner.AdvanceTo(buffer.GetPosition(1, lineEnd.Value));
        // SmtpServer waits for the answer to its 334 and would take the next command for it: only
        // its own refusal ends that wait, with the session kept (see RefuseWhatSmtpServerWouldMisread).
        if (state.AwaitingAuthAnswer) throw new SmtpResponseException((tooLong ? AuthResponse.TooLong : AuthResponse.EndedByBareLineFeed).ToResponse());
        await replies.ReplyAsync(tooLong ? LineTooLong : BareLineFeed, cancellationToken);
        return true;
    }

    /// <summary>
    /// When the first line is one SmtpServer would misread, consumes it and throws the refusal,
    /// which SmtpServer answers and counts like its own (only that ends an AUTH that waits for the
    /// answer to its 334, and keeps the session): an AUTH response it cannot decode
    /// (<see cref="AuthResponse"/>), a MAIL parameter given twice (<see cref="MailParameters.Repeated"/>;
    /// its parser threw on it) or a quoted local part it cannot read (<see cref="QuotedLocalPart.Refusal"/>).
    /// Each faulted the session without a reply.
    /// </summary>
    private void RefuseWhatSmtpServerWouldMisread(ReadOnlySequence<byte> buffer)
    {
        if (buffer.PositionOf((byte)'\n') is not { } lineEnd) return;
        // Without its CRLF: a line ended by a bare LF was refused before.
        var line = buffer.Slice(0, buffer.Slice(0, lineEnd).Length - 1);
        if ((AuthRefusal(line) ?? EnvelopeRefusal(line)) is not { } refusal) return;
        inner.AdvanceTo(buffer.GetPosition(1, lineEnd));
        throw new SmtpResponseException(refusal.ToResponse());
    }

    private SmtpReply? AuthRefusal(ReadOnlySequence<byte> line)
    {
        if (state.AwaitingAuthAnswer) return AuthResponse.RefusalOfAnswer(line, _plainExchange);
        if (!StartsWithVerb(line, "auth"u8)) return null;
        _plainExchange = AuthResponse.IsPlain(line);
        return AuthResponse.RefusalOfCommand(line);
    }

    private SmtpReply? EnvelopeRefusal(ReadOnlySequence<byte> line)
    {
        if (state.AwaitingAuthAnswer) return null; // an answer to a 334, not a command
        var isMail = StartsWithVerb(line, "mail"u8);
        if (!isMail && !StartsWithVerb(line, "rcpt"u8)) return null;
        // Only a quoted local part, or a MAIL with two parameters or more, can be misread: most
        // lines have neither, and are not decoded here for nothing.
        if (line.PositionOf((byte)'"') is null && !(isMail && Separators(line) >= 3)) return null;
        var text = System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, line);
        return (isMail ? MailParameters.Repeated(text) : null) ?? QuotedLocalPart.Refusal(text, isMail);
    }

    private static bool EndsWithCr(ReadOnlySequence<byte> line) =>
        !line.IsEmpty && line.Slice(line.Length - 1).FirstSpan[0] == (byte)'\r';

    /// <summary>
    /// An answer to a 334 may be as long as an AUTH line: RFC 4954 §4 has a client whose initial
    /// response would make its AUTH line too long send it as that answer instead.
    /// </summary>
    private int Limit(ReadOnlySequence<byte> buffer) =>
        state.AwaitingAuthAnswer || StartsWithVerb(buffer, "auth"u8) ? SmtpSessionLimits.MaxAuthLine
        : StartsWithVerb(buffer, "mail"u8) || StartsWithVerb(buffer, "rcpt"u8) ? SmtpSessionLimits.MaxEnvelopeCommandLine
        : SmtpSessionLimits.MaxCommandLine;

    /// <summary>
    /// The line begins with <paramref name="verb"/> (lower case given; any case matches) and white
    /// space: SmtpServer's tokenizer takes 0x09–0x0D as well as the space.
    /// </summary>
    private static bool StartsWithVerb(ReadOnlySequence<byte> line, ReadOnlySpan<byte> verb)
    {
        if (line.Length <= verb.Length) return false;
        Span<byte> start = stackalloc byte[8];
        var head = start[..(verb.Length + 1)];
        line.Slice(0, head.Length).CopyTo(head);
        for (var i = 0; i < verb.Length; i++)
            if ((head[i] | 0x20) != verb[i]) return false;
        return head[verb.Length] is (byte)' ' or >= 0x09 and <= 0x0D;
    }

    private ReadResult WithPrefix(ReadResult result)
    {
        _innerBuffer = result.Buffer;
        if (!state.DataPrefixPending)
        {
            _chain = null;
            _prefixInOuter = 0;
            _outerBuffer = result.Buffer;
            return result;
        }
        // One chain per DATA: its segments stay the same objects from read to read.
        _chain ??= new PrefixedChain(Crlf);
        _prefixInOuter = _chain.PrefixLength;
        _outerBuffer = _chain.Build(result.Buffer);
        return new ReadResult(_outerBuffer, result.IsCanceled, result.IsCompleted);
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (_prefixInOuter == 0)
        {
            if (!state.InData && !_commandBuffer.IsEmpty) KeepEnvelopeLine(_commandBuffer.Slice(0, consumed));
            _commandBuffer = default;
            inner.AdvanceTo(consumed, examined);
            return;
        }
        var consumedOffset = _outerBuffer.Slice(0, consumed).Length;
        var examinedOffset = _outerBuffer.Slice(0, examined).Length;
        // The prefix is all or nothing: SmtpServer consumes DATA only at its end, past the prefix.
        if (consumedOffset >= _prefixInOuter)
        {
            state.DataPrefixPending = false;
            _chain = null;
        }
        var innerConsumed = consumedOffset <= _prefixInOuter ? _innerBuffer.Start : _innerBuffer.GetPosition(consumedOffset - _prefixInOuter);
        var innerExamined = examinedOffset <= _prefixInOuter ? _innerBuffer.Start : _innerBuffer.GetPosition(examinedOffset - _prefixInOuter);
        _prefixInOuter = 0;
        inner.AdvanceTo(innerConsumed, innerExamined);
    }

    /// <summary>How many of <see cref="EnvelopeCommandLine.Separators"/> the line holds.</summary>
    private static int Separators(ReadOnlySequence<byte> line)
    {
        var separators = 0;
        foreach (var segment in line)
            foreach (var separator in EnvelopeCommandLine.Separators) separators += segment.Span.Count((byte)separator);
        return separators;
    }

    /// <summary>
    /// SmtpServer consumes a command with its line: what it consumed is that line. Every other
    /// command clears it, so a MAIL or RCPT is never read with an earlier one's parameters.
    /// </summary>
    private void KeepEnvelopeLine(ReadOnlySequence<byte> line)
    {
        if (line.IsEmpty) return; // nothing consumed: the line is not complete yet
        state.EnvelopeLine = StartsWithVerb(line, "rcpt"u8) || StartsWithVerb(line, "mail"u8)
            ? System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, line)
            : null;
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();
    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override bool TryRead(out ReadResult result)
    {
        // SmtpServer only awaits ReadAsync; refusing here keeps every read on the checked path.
        result = default;
        return false;
    }
}
