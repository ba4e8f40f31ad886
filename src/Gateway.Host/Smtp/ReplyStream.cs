using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Smtp;

/// <summary>
/// The output side of a connection: every reply SmtpServer writes passes here line by line, so we
/// know when DATA starts and ends, count errors (and end the session with a 421 after too many,
/// like Postfix's smtpd_hard_error_limit, and after too many failed AUTHs), remove SmtpServer's ", N retry(ies) remaining."
/// suffix, which is not SMTP and leaks its internal counter, and give SmtpServer's own replies
/// enhanced status codes (<see cref="SmtpServerReplies"/>).
/// </summary>
internal sealed partial class ReplyStream(Stream inner, SmtpConnectionState state, Action shutdown) : Stream
{
    private readonly MemoryStream _partial = new();
    private readonly string _idleTimeout = state.Limits.TimeoutReply + "\r\n";

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (state.Closed) return;
        var output = new MemoryStream();
        var start = 0;
        var span = buffer.Span;
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i] != (byte)'\n') continue;
            _partial.Write(span[start..(i + 1)]);
            start = i + 1;
            Line(Encoding.UTF8.GetString(_partial.GetBuffer(), 0, (int)_partial.Length), output);
            _partial.SetLength(0);
        }
        _partial.Write(span[start..]);
        if (output.Length > 0) await inner.WriteAsync(output.GetBuffer().AsMemory(0, (int)output.Length), cancellationToken);
        if (state.Closed)
        {
            await inner.FlushAsync(cancellationToken);
            shutdown();
        }
    }

    /// <summary>Writes a reply of our own (not SmtpServer's), counted like the others.</summary>
    public async Task ReplyAsync(string reply, CancellationToken cancellationToken)
    {
        await WriteAsync(Encoding.ASCII.GetBytes(reply + "\r\n"), cancellationToken);
        await FlushAsync(cancellationToken);
    }

    /// <summary>Sends a last reply and closes the connection; later writes are dropped.</summary>
    public async Task CloseWithAsync(SessionClosure closure, CancellationToken cancellationToken)
    {
        if (state.Closed) return;
        state.Close(closure);
        var reply = closure.Reply;
        try
        {
            await inner.WriteAsync(Encoding.ASCII.GetBytes(reply + "\r\n"), cancellationToken);
            await inner.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        shutdown();
    }

    private void Line(string line, MemoryStream output)
    {
        // Nothing follows the last reply, not even the rest of the write that carried it.
        if (state.Closed) return;
        var original = RetrySuffix().Replace(line, "\r\n");
        var text = SmtpServerReplies.Rewrite(original, state.Limits);
        output.Write(Encoding.UTF8.GetBytes(text));
        // The last line of a reply has a space (or nothing) after the code, the others a hyphen.
        if (text.Length < 3 || !int.TryParse(text.AsSpan(0, 3), out var code) || (text.Length > 3 && text[3] == '-')) return;
        state.OnReply(code, text);
        if (text == _idleTimeout) state.Close(new SessionClosure("no command within Gateway:Smtp:CommandTimeout", text.TrimEnd()));
        else if (SmtpServerReplies.ClosureAfter(original, state.Limits) is { } closure) CloseAfter(closure, output);
        else if (state.TooManyErrors && code is >= 400 and not 421)
        {
            CloseAfter(new SessionClosure($"{state.Errors} replies of 4xx or 5xx (Gateway:Smtp:MaxErrors)",
                $"421 4.7.0 {state.Limits.ServerName} Error: too many errors"), output);
        }
    }

    /// <summary>Our 421 after the reply just written, which the client reads as the answer to its next command.</summary>
    private void CloseAfter(SessionClosure closure, MemoryStream output)
    {
        state.Close(closure);
        output.Write(Encoding.ASCII.GetBytes(closure.Reply + "\r\n"));
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (state.Closed) return;
        await inner.FlushAsync(cancellationToken);
    }

    [GeneratedRegex(@", \d+ retry\(ies\) remaining\.\r?\n$")]
    private static partial Regex RetrySuffix();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
