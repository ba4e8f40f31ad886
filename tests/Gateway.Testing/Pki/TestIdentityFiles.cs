namespace Gateway.Testing.Pki;

/// <summary>Where <see cref="TestIdentity.WriteTo"/> put an identity. ChainPath is null without intermediates.</summary>
public sealed record TestIdentityFiles(string Pkcs12Path, string CertificatePath, string KeyPath, string? ChainPath);
