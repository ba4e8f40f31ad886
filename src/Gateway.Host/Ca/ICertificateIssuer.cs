using System.Security.Cryptography.X509Certificates;

namespace Gateway.Ca;

/// <summary>
/// Who issues internal senders' certificates, chosen by Gateway:Ca:Issuer. Enrolment, renewal
/// and the <c>gateway ca</c> commands talk to this only, so an external CA (ACME for S/MIME,
/// RFC 8823; a vendor's API) can take the built-in CA's place without touching them.
/// </summary>
public interface ICertificateIssuer
{
    /// <summary>Named in every audit line about a certificate, e.g. "builtIn (CN=Example Sub CA)".</summary>
    string Name { get; }

    /// <summary>The issuing CA certificate first, then the certificates above it up to the root when known.</summary>
    IReadOnlyList<X509Certificate2> Chain { get; }

    /// <summary>A new key and certificate for <paramref name="address"/>; <paramref name="trigger"/> says why, for the audit.</summary>
    Task<IssuedIdentity> IssueAsync(string address, string trigger, CancellationToken cancellationToken);

    /// <summary>
    /// Every identity ever issued to the address with its private key, revoked and expired ones
    /// too: mail encrypted to an older certificate needs that certificate's key to be read.
    /// </summary>
    IReadOnlyList<IssuedIdentity> IssuedTo(string address);

    /// <summary>The certificates of <see cref="IssuedTo"/> without their keys, read without decrypting any; those that cannot be read are left out.</summary>
    IReadOnlyList<X509Certificate2> CertificatesIssuedTo(string address);

    IReadOnlySet<string> RevokedSerials();

    /// <summary>Revokes every certificate of an address, or one serial; returns what was newly revoked.</summary>
    Task<IReadOnlyList<RevocationRecord>> RevokeAsync(string addressOrSerial, X509RevocationReason reason, CancellationToken cancellationToken);
}
