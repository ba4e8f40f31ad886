namespace Gateway.Policy;

/// <summary>policy.json as the admin wrote it. Absent fields of a rule inherit from <see cref="Default"/>.</summary>
public sealed class PolicyDocument
{
    public PolicyActionDocument? Default { get; set; }
    public List<PolicyRuleDocument>? Rules { get; set; }
}

public class PolicyActionDocument
{
    public SignMode? Sign { get; set; }
    public EncryptMode? Encrypt { get; set; }
    public MissingCertificateAction? MissingCertificate { get; set; }
    public ContentEncryption? ContentEncryption { get; set; }
    public KeyTransport? KeyTransport { get; set; }
    public SignatureDigest? Digest { get; set; }
}

public sealed class PolicyRuleDocument : PolicyActionDocument
{
    public string? Name { get; set; }
    public List<string>? Senders { get; set; }
    public List<string>? Recipients { get; set; }
}
