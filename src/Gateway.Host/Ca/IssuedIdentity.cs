using System.Security.Cryptography.X509Certificates;

namespace Gateway.Ca;

/// <summary>A certificate the built-in CA issued, with its private key, and where it is kept.</summary>
public sealed record IssuedIdentity(string Address, X509Certificate2 Certificate, string File)
{
    public string Serial => Certificate.SerialNumber;
}
