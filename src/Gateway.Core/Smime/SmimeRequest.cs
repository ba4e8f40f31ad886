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

    public bool Sign => Signer is not null;
    public bool Encrypt => Recipients.Count > 0;
}
