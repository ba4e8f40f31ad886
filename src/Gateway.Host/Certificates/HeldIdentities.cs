using System.Security.Cryptography.X509Certificates;
using Gateway.Ca;

namespace Gateway.Certificates;

/// <summary>
/// The private keys Gateway holds for an internal address: the signing identities of the local
/// certificate folder and, with certificate automation on, every identity the CA ever issued to it
/// (read from its folder each time, so one issued by `gateway ca issue` meanwhile counts). They
/// decrypt inbound mail (<see cref="For"/>, with the keys), and no copy is ever encrypted to them
/// (<see cref="CertificatesFor"/>, asked on recipient lookups: no key is decrypted for it).
/// </summary>
public sealed class HeldIdentities(LocalCertificateStore local, ICertificateIssuer? issuer) : IHeldIdentities
{
    /// <summary>With their private keys.</summary>
    public IReadOnlyList<X509Certificate2> For(string address) =>
        [.. local.IdentitiesFor(address), .. issuer?.IssuedTo(address).Select(i => i.Certificate) ?? []];

    public IReadOnlyList<X509Certificate2> CertificatesFor(string address) =>
        [.. local.IdentitiesFor(address), .. issuer?.CertificatesIssuedTo(address) ?? []];

    /// <summary>Whether <paramref name="certificate"/>'s key is one Gateway holds for <paramref name="address"/>.</summary>
    public bool Holds(string address, X509Certificate2 certificate)
    {
        var key = KeyIdentity.Of(certificate);
        return CertificatesFor(address).Any(own => KeyIdentity.Of(own) == key);
    }
}
