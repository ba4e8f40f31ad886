using System.Globalization;

namespace Gateway.Relay;

/// <summary>What the upstream's EHLO reply offers, of what the relay uses (RFC 5321 §4.1.1.1).</summary>
internal sealed record UpstreamCapabilities
{
    public static readonly UpstreamCapabilities None = new();

    /// <summary>RFC 2920: commands sent in one batch, their replies read afterwards.</summary>
    public bool Pipelining { get; init; }

    /// <summary>RFC 3030: BDAT, a message of known length without dot-stuffing.</summary>
    public bool Chunking { get; init; }

    public bool EightBitMime { get; init; }

    /// <summary>RFC 3461: NOTIFY, ORCPT, RET and ENVID are passed on.</summary>
    public bool Dsn { get; init; }

    /// <summary>RFC 6531: addresses in UTF-8.</summary>
    public bool SmtpUtf8 { get; init; }

    public bool StartTls { get; init; }

    /// <summary>RFC 1870: SIZE is declared; <see cref="MaxSize"/> 0 when the upstream gives no limit.</summary>
    public bool Size { get; init; }

    public long MaxSize { get; init; }

    /// <summary>The SASL mechanisms offered, upper case.</summary>
    public IReadOnlySet<string> Authentication { get; init; } = new HashSet<string>();

    /// <param name="lines">The EHLO reply's lines after the first (which names the server).</param>
    public static UpstreamCapabilities Parse(IEnumerable<string> lines)
    {
        var capabilities = new UpstreamCapabilities();
        var mechanisms = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            switch (words[0].ToUpperInvariant())
            {
                case "PIPELINING": capabilities = capabilities with { Pipelining = true }; break;
                case "CHUNKING": capabilities = capabilities with { Chunking = true }; break;
                case "8BITMIME": capabilities = capabilities with { EightBitMime = true }; break;
                case "DSN": capabilities = capabilities with { Dsn = true }; break;
                case "SMTPUTF8": capabilities = capabilities with { SmtpUtf8 = true }; break;
                case "STARTTLS": capabilities = capabilities with { StartTls = true }; break;
                case "SIZE":
                    var limit = words.Length > 1 && long.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
                    capabilities = capabilities with { Size = true, MaxSize = limit };
                    break;
                case "AUTH":
                    foreach (var mechanism in words.Skip(1)) mechanisms.Add(mechanism.ToUpperInvariant());
                    break;
                default:
                    // Old servers announce "AUTH=PLAIN LOGIN" beside AUTH.
                    if (words[0].StartsWith("AUTH=", StringComparison.OrdinalIgnoreCase))
                        foreach (var mechanism in words.Skip(1).Prepend(words[0][5..])) mechanisms.Add(mechanism.ToUpperInvariant());
                    break;
            }
        }
        return capabilities with { Authentication = mechanisms };
    }
}
