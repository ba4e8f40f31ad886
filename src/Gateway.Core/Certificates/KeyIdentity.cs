using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// The key itself, whatever the certificate's encoding of its algorithm: an RSA key by its
/// modulus (its AlgorithmIdentifier may carry NULL parameters or none, or name RSASSA-PSS), any
/// other by its algorithm and public key bits. Two certificates with the same identity hold the
/// same key: a re-issued certificate of one of Gateway's own identities is still Gateway's key.
/// </summary>
public static class KeyIdentity
{
    public static string Of(X509Certificate2 certificate)
    {
        try
        {
            using var rsa = certificate.GetRSAPublicKey();
            if (rsa is not null) return "rsa:" + Convert.ToBase64String(rsa.ExportParameters(false).Modulus!);
        }
        catch (CryptographicException)
        {
        }
        return $"{certificate.PublicKey.Oid.Value}:{Convert.ToBase64String(certificate.PublicKey.EncodedKeyValue.RawData)}";
    }
}
