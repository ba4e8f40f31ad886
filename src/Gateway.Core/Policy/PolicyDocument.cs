namespace Gateway.Policy;

/// <summary>policy.json as the admin wrote it. Absent fields of a rule inherit from <see cref="Default"/>.</summary>
public sealed class PolicyDocument
{
    public PolicyActionDocument? Default { get; set; }
    public TriggersDocument? Triggers { get; set; }
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
    public SignatureForm? SignatureForm { get; set; }
    public SignaturePadding? SignaturePadding { get; set; }
    public AuthenticatedEncryption? AuthenticatedEncryption { get; set; }
    public HeaderProtection? HeaderProtection { get; set; }
}

public sealed class PolicyRuleDocument : PolicyActionDocument
{
    public string? Name { get; set; }
    public List<string>? Senders { get; set; }
    public List<string>? Recipients { get; set; }

    /// <summary>true: the rule matches only messages whose sender used a trigger (subject tag or header).</summary>
    public bool? Triggered { get; set; }
}

/// <summary>The marks users put on a message in their mail client to ask for encryption.</summary>
public sealed class TriggersDocument
{
    public string? SubjectTag { get; set; }
    public TriggerHeaderDocument? Header { get; set; }
    public List<string>? AllowedSenders { get; set; }
}

public sealed class TriggerHeaderDocument
{
    public string? Name { get; set; }
    public string? Value { get; set; }
}
