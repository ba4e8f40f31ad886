using System.Text;

namespace Gateway.Http;

/// <summary>
/// The request line of an HTTP/1.x request, read with its headers and no further: a body is never
/// read (these endpoints take none). <see cref="Refusal"/> is the status for a head that cannot be
/// answered (400 malformed, 431 too long), else 0.
/// </summary>
internal sealed record HttpRequestHead(string Method, string Target, int Refusal = 0)
{
    /// <summary>The head, or null when the client closed before its end.</summary>
    public static async Task<HttpRequestHead?> ReadAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new byte[maxBytes];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length) return new HttpRequestHead("", "", 431);
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0) return null;
            var searchFrom = Math.Max(0, length - 3);
            length += read;
            if (EndOfHead(buffer.AsSpan(searchFrom, length - searchFrom))) return Parse(buffer.AsSpan(0, length));
        }
    }

    /// <summary>A blank line: CRLF CRLF, or LF LF from a client that sends bare line feeds.</summary>
    private static bool EndOfHead(ReadOnlySpan<byte> bytes) => bytes.IndexOf("\r\n\r\n"u8) >= 0 || bytes.IndexOf("\n\n"u8) >= 0;

    private static HttpRequestHead Parse(ReadOnlySpan<byte> head)
    {
        var line = head[..head.IndexOf((byte)'\n')].TrimEnd((byte)'\r');
        var parts = Encoding.Latin1.GetString(line).Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || !parts[1].StartsWith('/') && !parts[1].StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            return new HttpRequestHead("", "", 400);
        return new HttpRequestHead(parts[0], parts[1]);
    }
}
