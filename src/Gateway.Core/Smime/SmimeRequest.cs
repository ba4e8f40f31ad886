using System.Security.Cryptography.X509Certificates;
using Gateway.Policy;

namespace Gateway.Smime;

/// <summary>
/// One copy to produce: signed with <paramref name="Signer"/> (certificate with private key) when
/// given, encrypted to every certificate in <paramref name="Recipients"/> when any.
/// </summary>
public sealed record SmimeRequest(
    X509Certificate2? Signer,
    IReadOnlyList<X509Certificate2> SignerChain,
    IReadOnlyList<X509Certificate2> Recipients,
    CryptoSettings Crypto)
{
    /// <summary>Where the transformation keeps its intermediate copies, by the message's size (see <see cref="ScratchStreams"/>).</summary>
    public Func<long, Stream> Scratch { get; init; } = ScratchStreams.InMemory;

    /// <summary>
    /// The gateway's inbound endpoint decrypts replies for its users, so the signature's
    /// SMIMECapabilities put AES-GCM first and name RSA-OAEP: replies to the sender may then come
    /// as authEnveloped-data or with OAEP key transport, which a user's own client (gpgsm 2.2:
    /// Kleopatra, KMail) may not open.
    /// </summary>
    public bool DecryptsReplies { get; init; }

    /// <summary>
    /// The certificate replies are to be encrypted to, first, and its intermediates
    /// (<see cref="Certificates.CertificateChoice.ReplyChain"/>): named by the signature's
    /// SMIMEEncryptionKeyPreference and carried in it. Empty: none is named. Null: the signer's
    /// own, when its key may encrypt.
    /// </summary>
    public IReadOnlyList<X509Certificate2>? ReplyCertificateChain { get; init; }

    /// <summary>The certificate the signature names for replies, or null for none.</summary>
    internal X509Certificate2? ReplyCertificate => ReplyCertificateChain is { } chain
        ? chain.FirstOrDefault()
        : Signer is not null && Certificates.SmimeCertificateValidator.KeyMayEncrypt(Signer) ? Signer : null;

    /// <summary>
    /// The certificates the signature carries besides the signer's: its intermediates (not the
    /// root), then those of <see cref="ReplyCertificateChain"/> it does not already carry.
    /// </summary>
    internal IEnumerable<X509Certificate2> CarriedCertificates()
    {
        var carried = SignerChain.Skip(1).ToList();
        foreach (var certificate in ReplyCertificateChain ?? [])
            if (!certificate.RawDataMemory.Span.SequenceEqual(Signer!.RawDataMemory.Span) && !carried.Any(c => c.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span)))
                carried.Add(certificate);
        return carried;
    }

    public bool Sign => Signer is not null;
    public bool Encrypt => Recipients.Count > 0;
}
