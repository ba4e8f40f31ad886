using System.Text;

namespace Gateway.Http;

/// <summary>
/// The request line and Host of an HTTP/1.x request, read with its headers and no further: a body
/// is never read (these endpoints take none). <see cref="Refusal"/> is the status for a head that
/// cannot be answered (400 malformed, 431 too long), else 0. <see cref="Host"/> is null when the
/// request has none (HTTP/1.0 only: an HTTP/1.1 request without one is a 400, RFC 9112 §3.2).
/// </summary>
internal sealed record HttpRequestHead(string Method, string Target, string? Host = null, int Refusal = 0)
{
    private const string Scheme = "http://";

    /// <summary>Whom the request names: an absolute target's authority, which wins over Host (RFC 9112 §3.2.2), else Host.</summary>
    public string? Authority => IsAbsolute ? Target[Scheme.Length..].Split('/', '?', '#')[0] : Host;

    /// <summary>The target from its path on: an absolute target (http://host/pki/ca.crl) taken by its path.</summary>
    public string PathAndQuery
    {
        get
        {
            if (!IsAbsolute) return Target;
            var slash = Target.IndexOf('/', Scheme.Length);
            return slash < 0 ? "/" : Target[slash..];
        }
    }

    private bool IsAbsolute => Target.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>The head, or null when the client closed before its end.</summary>
    public static async Task<HttpRequestHead?> ReadAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new byte[maxBytes];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length) return new HttpRequestHead("", "", Refusal: 431);
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0) return null;
            var searchFrom = Math.Max(0, length - 3);
            length += read;
            if (EndOfHead(buffer.AsSpan(searchFrom, length - searchFrom))) return Parse(buffer.AsSpan(0, length));
        }
    }

    /// <summary>A blank line: CRLF CRLF, or LF LF from a client that sends bare line feeds.</summary>
    private static bool EndOfHead(ReadOnlySpan<byte> bytes) => bytes.IndexOf("\r\n\r\n"u8) >= 0 || bytes.IndexOf("\n\n"u8) >= 0;

    private static readonly HttpRequestHead Malformed = new("", "", Refusal: 400);

    private static HttpRequestHead Parse(ReadOnlySpan<byte> head)
    {
        var lines = Encoding.Latin1.GetString(head).Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || !parts[1].StartsWith('/') && !parts[1].StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            return Malformed;
        var hosts = new List<string>();
        foreach (var line in lines.Skip(1).TakeWhile(l => l.Length > 0))
        {
            var colon = line.IndexOf(':');
            // Whitespace before the colon is a 400 (RFC 9112 §5.1): "Host : x" could be one server's Host and not another's.
            if (colon > 0 && char.IsWhiteSpace(line[colon - 1])) return Malformed;
            if (colon == 4 && line.StartsWith("Host", StringComparison.OrdinalIgnoreCase)) hosts.Add(line[(colon + 1)..].Trim(' ', '\t'));
        }
        if (hosts.Count > 1 || hosts.Count == 0 && parts[2] != "HTTP/1.0") return Malformed;
        return new HttpRequestHead(parts[0], parts[1], hosts.FirstOrDefault());
    }
}
