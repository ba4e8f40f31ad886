using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// The certificates of an address whose private keys Gateway itself holds: its signing identities.
/// The user reads mail without those keys (that is the point of the gateway), so a copy encrypted
/// to one of them, found again in the cache, a directory or harvested from a signature, would be
/// unreadable in the user's mailbox.
/// </summary>
public interface IHeldIdentities
{
    /// <summary>Their certificates (private keys need not be loaded).</summary>
    IReadOnlyList<X509Certificate2> CertificatesFor(string address);
}
