using System.Text;

namespace Gateway.Tests.Robustness;

/// <summary>
/// Random mail that breaks the rules the way real senders do: wrong or missing boundaries,
/// truncated parts, broken base64 and quoted-printable, raw 8-bit and invalid UTF-8 in headers,
/// zero-length parts, deep nesting, folded and over-long header lines. Deterministic per seed,
/// so a failing case can be replayed from the seed CsCheck prints.
/// </summary>
internal static class MalformedMimeGenerator
{
    private static readonly string[] Encodings = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-unknown", ""];
    private static readonly string[] Types = ["text/plain", "text/html", "application/octet-stream", "image/png", "message/rfc822", "multipart/mixed", "multipart/alternative", "multipart/signed", "application/pkcs7-mime", "text/plain; charset=x-invalid"];

    public static byte[] Generate(int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        text.Append("From: ").Append(Word(random)).Append(" <alice@example.test>\r\n");
        text.Append("To: bob@partner.test\r\n");
        text.Append("Subject: ").Append(HeaderValue(random)).Append("\r\n");
        if (random.Next(3) == 0) text.Append("X-Long: ").Append(new string('h', random.Next(1000, 20000))).Append("\r\n");
        if (random.Next(2) == 0) text.Append("MIME-Version: 1.0\r\n");
        Entity(random, text, depth: random.Next(4) == 0 ? random.Next(10, 60) : random.Next(0, 4));
        var bytes = Encoding.Latin1.GetBytes(text.ToString());
        if (random.Next(5) == 0) bytes = bytes[..random.Next(bytes.Length / 2, bytes.Length)]; // truncated in flight
        // As the listener hands it over: bare CR and bare LF are refused at DATA, and the spool ends every message with CRLF.
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r') bytes = [.. bytes, (byte)'\n'];
        else if (bytes.Length == 0 || bytes[^1] != (byte)'\n') bytes = [.. bytes, (byte)'\r', (byte)'\n'];
        return bytes;
    }

    private static void Entity(Random random, StringBuilder text, int depth)
    {
        var type = depth > 0 && random.Next(3) > 0 ? (random.Next(2) == 0 ? "multipart/mixed" : "multipart/alternative") : Types[random.Next(Types.Length)];
        var boundary = random.Next(6) == 0 ? "" : "b" + random.Next(1000);
        text.Append("Content-Type: ").Append(type);
        if (type.StartsWith("multipart/", StringComparison.Ordinal) && boundary.Length > 0) text.Append("; boundary=\"").Append(boundary).Append('"');
        text.Append("\r\n");
        var encoding = Encodings[random.Next(Encodings.Length)];
        if (encoding.Length > 0) text.Append("Content-Transfer-Encoding: ").Append(encoding).Append("\r\n");
        text.Append("\r\n");
        if (type.StartsWith("multipart/", StringComparison.Ordinal))
        {
            var children = random.Next(0, 4);
            var written = random.Next(4) == 0 ? "wrong" + boundary : boundary; // sometimes the boundary in the body does not match
            for (var i = 0; i < children; i++)
            {
                text.Append("--").Append(written).Append("\r\n");
                Entity(random, text, depth - 1);
            }
            if (random.Next(3) > 0) text.Append("--").Append(written).Append("--\r\n");
            if (random.Next(4) == 0) text.Append("epilogue ").Append(Word(random)).Append("\r\n");
            return;
        }
        Body(random, text, encoding);
    }

    private static void Body(Random random, StringBuilder text, string encoding)
    {
        var lines = random.Next(0, 8);
        for (var i = 0; i < lines; i++)
        {
            var line = encoding switch
            {
                "base64" => random.Next(4) == 0 ? "!!not*base64==" + Word(random) : Convert.ToBase64String(RandomBytes(random, random.Next(0, 57))),
                "quoted-printable" => Word(random) + (random.Next(3) == 0 ? "=ZZ=" : "=3D") + (random.Next(4) == 0 ? "=" : ""),
                _ => random.Next(5) == 0 ? Encoding.Latin1.GetString(RandomBytes(random, random.Next(1, 80))).Replace("\r", "").Replace("\n", "") : Word(random) + "   ",
            };
            text.Append(random.Next(8) == 0 ? "From " : "").Append(random.Next(8) == 0 ? "." : "").Append(line).Append("\r\n");
        }
    }

    private static string HeaderValue(Random random) => random.Next(4) switch
    {
        0 => "=?utf-8?b?" + Convert.ToBase64String(RandomBytes(random, 12)) + "?=",
        1 => "Gr\u00fc\u00dfe " + Word(random),
        2 => "=?x-broken?q?" + Word(random),
        _ => Word(random) + "\r\n\t" + Word(random),
    };

    private static string Word(Random random) => new(Enumerable.Range(0, random.Next(1, 12)).Select(_ => (char)random.Next('a', 'z' + 1)).ToArray());

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
