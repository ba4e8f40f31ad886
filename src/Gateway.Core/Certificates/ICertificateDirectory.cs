namespace Gateway.Certificates;

/// <summary>
/// Where certificates come from (local store today; cache, LDAP and harvested mail later). The
/// choice among candidates is made by <see cref="CertificateSelector"/>, so every source is
/// held to the same rules.
/// </summary>
public interface ICertificateDirectory
{
    /// <summary>The sender's signing identity: a certificate with its private key.</summary>
    ValueTask<CertificateChoice> FindSignerAsync(string address, CancellationToken cancellationToken);

    /// <summary>A recipient's encryption certificate.</summary>
    ValueTask<CertificateChoice> FindRecipientAsync(string address, CancellationToken cancellationToken);
}
