using Gateway.Certificates;
using Gateway.Outcomes;
using Gateway.Pipeline;
using Gateway.Policy;

namespace Gateway.Cli;

/// <summary>What <c>gateway policy explain</c> reports: the plan the running gateway would make, in words an admin reads.</summary>
public sealed record PolicyExplanation(string Policy, string Revision, string Sender, CertificateReport? Signer, IReadOnlyList<RecipientExplanation> Recipients)
{
    public static PolicyExplanation From(PolicySnapshot policy, string sender, IReadOnlyList<string> order, DeliveryPlan plan, IReadOnlyDictionary<string, CertificateChoice> looked)
    {
        var recipients = new List<RecipientExplanation>();
        foreach (var group in plan.Groups)
            recipients.AddRange(group.Recipients.Select(r => Explain(r, Describe(r), $"copy {group.Number} of {plan.Groups.Count}",
                group.Crypto with { AuthenticatedEncryption = r.Policy.Crypto.AuthenticatedEncryption }, looked)));
        recipients.AddRange(plan.Refused.Select(r => Explain(r, "refuse", Failures.Reply(r.Failure ?? FailureKind.EncryptionCertificateMissing).ToString(), null, looked)));
        recipients.AddRange(plan.Held.Select(r => Explain(r, "hold", "parked in spool/hold until the certificate is known (then sent by itself, unless Spool:HeldRecheckInterval is zero), returned after Spool:MaximumLifetime", null, looked)));
        var sorted = recipients.OrderBy(r => IndexOf(order, r.Recipient)).ToList();
        return new PolicyExplanation(policy.Source, policy.Revision, sender, plan.Signer is null ? null : CertificateReport.From(plan.Signer), sorted);
    }

    private static RecipientExplanation Explain(PlannedRecipient r, string decision, string detail, CryptoSettings? crypto, IReadOnlyDictionary<string, CertificateChoice> looked)
    {
        var certificate = r.Certificate ?? looked.GetValueOrDefault(r.Address);
        return new RecipientExplanation(
            r.Address, r.Policy.RuleName, r.Policy.Trigger, decision, detail, r.Reason,
            Name(r.Policy.Sign), Name(r.Policy.Encrypt), Name(r.Policy.MissingCertificate),
            certificate is null ? null : CertificateReport.From(certificate),
            r.Certificate is null && certificate is not null,
            crypto is null || decision == "unchanged" ? null : crypto)
        {
            GcmAdvertised = r.Encrypt && crypto?.IsAuthenticated == true && !r.Policy.Crypto.IsAuthenticated,
        };
    }

    private static int IndexOf(IReadOnlyList<string> order, string address)
    {
        for (var i = 0; i < order.Count; i++)
            if (string.Equals(order[i], address, StringComparison.Ordinal)) return i;
        return order.Count;
    }

    private static string Name<T>(T value) where T : struct, Enum => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    private static string Describe(PlannedRecipient r) => (r.Sign, r.Encrypt) switch
    {
        (true, true) => "sign+encrypt",
        (false, true) => "encrypt",
        (true, false) => "sign",
        _ => "unchanged",
    };

    public IEnumerable<string> Lines()
    {
        yield return $"policy {Policy} revision {Revision}";
        yield return Signer is null
            ? $"sender {Sender}: no signing identity looked up (no rule signs for this sender)"
            : $"sender {Sender}: signing identity {Signer.Describe()}";
        foreach (var r in Recipients)
        {
            yield return "";
            yield return r.Recipient;
            yield return $"  rule:        {r.Rule} (sign {r.Sign}, encrypt {r.Encrypt}, missing certificate: {r.MissingCertificate})";
            if (r.Trigger is not null) yield return $"  trigger:     {r.Trigger} (encryption raised to required)";
            yield return $"  decision:    {r.Decision} ({r.Detail})";
            yield return $"  reason:      {r.Reason}";
            yield return $"  certificate: {(r.Certificate is null ? "not looked up" : r.Certificate.Describe())}{(r.CertificateNotUsed ? " (not used: encryption is never for this rule)" : "")}";
            if (r.Crypto is { } c)
                yield return $"  algorithms:  contentEncryption {Name(c.ContentEncryption)}{(r.GcmAdvertised ? " (every certificate's client puts AES-GCM first in its SMIMECapabilities)" : "")}, keyTransport {Name(c.KeyTransport)}, digest {Name(c.Digest)}, signatureForm {Name(c.SignatureForm)}, signaturePadding {Name(c.SignaturePadding)}, authenticatedEncryption {Name(c.AuthenticatedEncryption)}, headerProtection {Name(c.HeaderProtection)}";
        }
    }
}

public sealed record RecipientExplanation(
    string Recipient, string Rule, string? Trigger, string Decision, string Detail, string Reason,
    string Sign, string Encrypt, string MissingCertificate,
    CertificateReport? Certificate, bool CertificateNotUsed, CryptoSettings? Crypto)
{
    /// <summary>The copy is AES-GCM because every certificate's client asked for it, not because the rule says so.</summary>
    public bool GcmAdvertised { get; init; }
}

/// <param name="AlsoEncryptedTo">The recipient's other current certificates a copy is encrypted to as well (Certificates:MaxEncryptionCertificates).</param>
public sealed record CertificateReport(bool Usable, string? Thumbprint, string? Source, DateTimeOffset? NotAfter, string Reason, IReadOnlyList<string> Rejected,
    IReadOnlyList<string> AlsoEncryptedTo)
{
    public static CertificateReport From(CertificateChoice choice) => new(
        choice.Found,
        choice.Selected?.Certificate.Thumbprint,
        choice.Selected?.Source,
        choice.Selected is { } s ? new DateTimeOffset(s.Certificate.NotAfter.ToUniversalTime()) : null,
        choice.Reason,
        choice.Rejected,
        choice.AlsoUsable.Select(u => u.Candidate.Certificate.Thumbprint).ToList());

    public string Describe() => Usable
        ? $"usable, {Thumbprint} from {Source}, valid until {NotAfter:yyyy-MM-dd HH:mm}Z" + (AlsoEncryptedTo.Count > 0 ? $"; also encrypted to {string.Join(", ", AlsoEncryptedTo)}" : "")
        : $"none usable: {Reason}" + (Rejected.Count > 0 ? $" (rejected: {string.Join("; ", Rejected)})" : "");
}
