using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Relay;

/// <summary>
/// Verifies the upstream's TLS certificate against one configured CA instead of the system roots:
/// the name must match and the chain must end at that CA, nothing else is relaxed.
/// </summary>
internal static class UpstreamValidation
{
    public static bool Validate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 authority)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
