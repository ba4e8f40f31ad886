using Gateway.Mail;
using Gateway.Outcomes;

namespace Gateway.Bounces;

/// <summary>
/// A recipient the report is about, with the reply that says why and the words for a person.
/// <see cref="Action"/> is RFC 3464's: "failed" (never delivered), "delayed" (still being tried
/// until <see cref="WillRetryUntil"/>) or "relayed" (handed to an upstream that does not report
/// delivery itself, for a client that asked NOTIFY=SUCCESS). <see cref="MayReturnContent"/> is
/// true only when the copy for this recipient would have left unencrypted anyway: content that
/// had to be encrypted never travels back in a report in plaintext, whatever RET the client asked
/// for. <see cref="OriginalRecipient"/> is the client's ORCPT, xtext-encoded as received, and
/// <see cref="Notify"/> its NOTIFY, which decides whether the report is sent at all.
/// </summary>
public sealed record ReportedRecipient(string Address, SmtpReply Reply, string Explanation, string Action = ReportedRecipient.Failed,
    DateTimeOffset? WillRetryUntil = null, bool MayReturnContent = false, string? OriginalRecipient = null, DsnNotify? Notify = null)
{
    public const string Failed = "failed";
    public const string Delayed = "delayed";
    public const string Relayed = "relayed";
}
