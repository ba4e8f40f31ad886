using System.Net.Security;

namespace Gateway.Smtp;

/// <summary>
/// The cipher suites the listener offers: all of TLS 1.3, and for TLS 1.2 only ECDHE with AES-GCM
/// or ChaCha20-Poly1305 (forward secrecy, AEAD; no CBC, RSA key exchange, 3DES or RC4). Only
/// Linux lets .NET restrict suites; elsewhere the OS policy applies (null).
/// </summary>
internal static class TlsCipherSuites
{
    public static CipherSuitesPolicy? Policy { get; } = OperatingSystem.IsLinux() ? Create() : null;

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static CipherSuitesPolicy Create() => new(
    [
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]);
}
