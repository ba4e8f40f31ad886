namespace Gateway.Audit;

/// <summary>
/// One line of the audit log. Identities, decisions and reasons only: never a body, never key
/// material. Null fields are left out of the JSON line.
/// </summary>
public sealed record AuditEvent(string Event)
{
    public DateTimeOffset Time { get; init; }
    public string? SpoolId { get; init; }
    public string? MessageId { get; init; }
    public string? Client { get; init; }
    public string? Sender { get; init; }

    /// <summary>The AUTH user name of the SMTP client, never its password.</summary>
    public string? User { get; init; }
    public string? Recipient { get; init; }
    public IReadOnlyList<string>? Recipients { get; init; }
    public string? Rule { get; init; }
    public string? Action { get; init; }
    public string? Reason { get; init; }
    public string? PolicyRevision { get; init; }
    public string? SignerCertificate { get; init; }
    public IReadOnlyList<string>? RecipientCertificates { get; init; }
    public string? CertificateSource { get; init; }

    /// <summary>Certificates found but not usable, each with its thumbprint, source and problems.</summary>
    public IReadOnlyList<string>? RejectedCertificates { get; init; }
    public string? Algorithms { get; init; }
    public string? Reply { get; init; }
    public string? Status { get; init; }

    /// <summary>Certificate lines (issued, revoked, exported): the serial number, the certificate's end and who issued it.</summary>
    public string? Serial { get; init; }
    public DateTimeOffset? NotAfter { get; init; }
    public string? Issuer { get; init; }
    public int? Copy { get; init; }

    /// <summary>Relay lines: the upstream that answered (host:port) and the session's TLS ("TLSv1.3 …", or "none").</summary>
    public string? Upstream { get; init; }
    public string? Tls { get; init; }
    public long? Size { get; init; }
}
