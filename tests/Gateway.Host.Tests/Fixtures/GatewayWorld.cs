using Gateway.Testing.Pki;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// A temp folder laid out like a deployment: certs/ with a fresh test PKI (alice@example.test as
/// internal sender, bob@ and carol@partner.test as recipients; none for erin@ or dave@), a
/// policy.json like the shipped one, and settings pointing everything into the folder.
/// </summary>
public sealed class GatewayWorld : IDisposable
{
    public const string Pkcs12Password = "test-password";

    public const string SamplePolicy = """
        {
          "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
          "rules": [
            { "name": "partner-test-requires-encryption", "senders": ["example.test"], "recipients": ["partner.test"],
              "sign": "always", "encrypt": "required", "missingCertificate": "refuse" },
            { "name": "internal-senders-sign", "senders": ["example.test"], "sign": "always" }
          ]
        }
        """;

    public GatewayWorld(string? policy = null)
    {
        Root = Directory.CreateTempSubdirectory("gateway-test-").FullName;
        Certificates = Path.Combine(Root, "certs");
        Directory.CreateDirectory(Certificates);
        Pki = TestPki.Create();
        CaCertificatePath = Path.Combine(Root, "ca.crt");
        Pki.Root.WriteCertificate(CaCertificatePath);
        Alice = Pki.Issue("alice@example.test");
        Bob = Pki.Issue("bob@partner.test");
        Carol = Pki.Issue("carol@partner.test");
        AliceFiles = Alice.WriteTo(Certificates, Pkcs12Password);
        BobFiles = WritePublic(Bob);
        CarolFiles = WritePublic(Carol);
        PolicyPath = Path.Combine(Root, "policy.json");
        File.WriteAllText(PolicyPath, policy ?? SamplePolicy);
        Settings = new Dictionary<string, string?>
        {
            ["Gateway:Smtp:Address"] = "127.0.0.1",
            ["Gateway:Smtp:Port"] = "0",
            ["Gateway:Spool:Path"] = Path.Combine(Root, "spool"),
            ["Gateway:Spool:FirstRetry"] = "00:00:01",
            ["Gateway:Spool:MaxRetryInterval"] = "00:00:02",
            ["Gateway:Relay:Outbox"] = Path.Combine(Root, "outbox"),
            ["Gateway:Audit:Path"] = Path.Combine(Root, "audit.jsonl"),
            ["Gateway:Policy:Path"] = PolicyPath,
            ["Gateway:Certificates:Path"] = Certificates,
            ["Gateway:Certificates:TrustAnchors:0"] = CaCertificatePath,
            ["Gateway:Certificates:Pkcs12Password"] = Pkcs12Password,
            ["Gateway:Certificates:Cache:Path"] = Path.Combine(Root, "certificates.db"),
        };
    }

    public string Root { get; }
    public string Certificates { get; }
    public string CaCertificatePath { get; }
    public string PolicyPath { get; }
    public TestPki Pki { get; }
    public TestIdentity Alice { get; }
    public TestIdentity Bob { get; }
    public TestIdentity Carol { get; }
    public TestIdentityFiles AliceFiles { get; }
    public TestIdentityFiles BobFiles { get; }
    public TestIdentityFiles CarolFiles { get; }

    /// <summary>Configuration keys and values; tests change them before starting a gateway.</summary>
    public Dictionary<string, string?> Settings { get; }

    /// <summary>Points the relay at an upstream on loopback (plain SMTP unless a TLS mode is given).</summary>
    public void RelayTo(int port, string tlsMode = "None")
    {
        Settings["Gateway:Relay:Host"] = "127.0.0.1";
        Settings["Gateway:Relay:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings["Gateway:Relay:TlsMode"] = tlsMode;
    }

    public string SpoolPath => Settings["Gateway:Spool:Path"]!;
    public string OutboxPath => Settings["Gateway:Relay:Outbox"]!;

    /// <summary>The outbox file a "delivered" audit event names in its reply ("250 2.0.0 written to outbox as NAME").</summary>
    public string OutboxFileOf(System.Text.Json.JsonElement delivered)
    {
        var reply = delivered.GetProperty("reply").GetString()!;
        return Path.Combine(OutboxPath, reply[(reply.LastIndexOf(' ') + 1)..]);
    }
    public string AuditPath => Settings["Gateway:Audit:Path"]!;

    /// <summary>Recipient keys live outside the gateway's folder: the gateway must never have them.</summary>
    private TestIdentityFiles WritePublic(TestIdentity identity)
    {
        var keys = Path.Combine(Root, "recipient-keys");
        Directory.CreateDirectory(keys);
        var files = identity.WriteTo(keys, Pkcs12Password);
        var certificate = Path.Combine(Certificates, identity.Address + ".crt");
        File.Copy(files.CertificatePath, certificate);
        return files;
    }

    public void Dispose()
    {
        Pki.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
