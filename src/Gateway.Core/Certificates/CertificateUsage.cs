namespace Gateway.Certificates;

public enum CertificateUsage
{
    /// <summary>The sender's own certificate, used with its private key to sign.</summary>
    Signing,
    /// <summary>A recipient's certificate, used to wrap the content key.</summary>
    Encryption,
}
