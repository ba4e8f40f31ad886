using System.Text;

namespace Gateway.Relay;

/// <summary>
/// Reads the upstream's replies (RFC 5321 §4.2): "250-first line", …, "250 last line". Bounded,
/// so an upstream that sends endless lines or a line without end fails the connection instead of
/// filling memory; anything that is not a reply is a protocol error, never guessed at.
/// </summary>
internal sealed class ReplyReader(Stream stream)
{
    /// <summary>RFC 5321 §4.5.3.1.5 allows 512 octets a reply line; real servers exceed it, never by this much.</summary>
    private const int MaxLineLength = 4096;
    private const int MaxLines = 100;

    private readonly byte[] _buffer = new byte[MaxLineLength];
    private int _start;
    private int _end;

    /// <summary>The stream replies come from; replaced once TLS starts on the connection.</summary>
    public Stream Stream { get; set; } = stream;

    /// <summary>
    /// Whether bytes arrived that no reply asked for yet. After the reply to STARTTLS there must
    /// be none: bytes sent before the handshake would otherwise be read as if they came over TLS
    /// (the STARTTLS command-injection flaw, CVE-2011-0411 and kin).
    /// </summary>
    public bool HasUnreadBytes => _end > _start;

    /// <param name="lines">When given, receives each line's text on its own (an EHLO reply's capabilities).</param>
    public async ValueTask<UpstreamReply> ReadAsync(CancellationToken cancellationToken, List<string>? lines = null)
    {
        var code = -1;
        var text = new StringBuilder();
        for (var count = 1; ; count++)
        {
            var line = await ReadLineAsync(cancellationToken);
            if (line.Length < 3 || !char.IsAsciiDigit(line[0]) || !char.IsAsciiDigit(line[1]) || !char.IsAsciiDigit(line[2])
                || (line.Length > 3 && line[3] is not (' ' or '-')) || line[0] is < '2' or > '5')
                throw new UpstreamProtocolException($"the upstream sent a line that is no SMTP reply: \"{Printable(line)}\"");
            var lineCode = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            if (code >= 0 && lineCode != code)
                throw new UpstreamProtocolException($"the upstream changed its reply code within a reply ({code}, then {lineCode})");
            code = lineCode;
            var lineText = line.Length > 4 ? Printable(line.AsSpan(4).Trim()) : string.Empty;
            lines?.Add(lineText);
            if (lineText.Length > 0)
            {
                if (text.Length > 0) text.Append(' ');
                text.Append(lineText);
            }
            if (line.Length <= 3 || line[3] == ' ') return new UpstreamReply(code, text.ToString());
            if (count == MaxLines) throw new UpstreamProtocolException($"the upstream sent a reply of more than {MaxLines} lines");
        }
    }

    private async ValueTask<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newLine = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newLine >= 0)
            {
                var length = newLine - _start;
                if (length > 0 && _buffer[newLine - 1] == '\r') length--;
                // UTF-8: an upstream with SMTPUTF8 may quote an address in its reply.
                var line = Encoding.UTF8.GetString(_buffer, _start, length);
                _start = newLine + 1;
                return line;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length) throw new UpstreamProtocolException($"the upstream sent a reply line longer than {MaxLineLength} bytes");
            var read = await Stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0) throw new IOException("the upstream closed the connection");
            _end += read;
        }
    }

    /// <summary>Reply text goes into audit lines and reports: no control characters.</summary>
    private static string Printable(ReadOnlySpan<char> text)
    {
        if (!text.ContainsAnyInRange('\0', '\x1f') && !text.Contains('\x7f')) return text.ToString();
        var copy = text.ToArray();
        for (var i = 0; i < copy.Length; i++)
            if (char.IsControl(copy[i])) copy[i] = '?';
        return new string(copy);
    }
}
