using System.Formats.Asn1;

namespace Gateway.Smime;

/// <summary>
/// The algorithms a correspondent's client says it reads, from the SMIMECapabilities attribute of
/// a message it signed (RFC 8551 §2.5.2), in its order of preference.
/// </summary>
public sealed record SmimeCapabilities(IReadOnlyList<string> Algorithms)
{
    /// <summary>Null for an absent attribute or one that is not SMIMECapabilities' DER: nothing is known then.</summary>
    public static SmimeCapabilities? Parse(byte[]? der)
    {
        if (der is null) return null;
        try
        {
            // BER: what a client wrote is read as it is (a few write indefinite lengths).
            var reader = new AsnReader(der, AsnEncodingRules.BER);
            var sequence = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var algorithms = new List<string>();
            while (sequence.HasData)
            {
                var capability = sequence.ReadSequence();
                algorithms.Add(capability.ReadObjectIdentifier());
            }
            return new SmimeCapabilities(algorithms);
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    public bool Advertises(string oid) => Algorithms.Contains(oid, StringComparer.Ordinal);

    /// <summary>The algorithms as the audit names them ("aes-256-gcm"), in the client's order.</summary>
    public IReadOnlyList<string> Names => Algorithms.Select(SmimeOids.NameOf).ToList();
}
