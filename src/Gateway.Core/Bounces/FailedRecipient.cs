using Gateway.Outcomes;

namespace Gateway.Bounces;

/// <summary>
/// A recipient the report is about, with the reply that says why and the words for a person.
/// <see cref="Action"/> is RFC 3464's: "failed" (never delivered) or "delayed" (still being tried
/// until <see cref="WillRetryUntil"/>). <see cref="MayReturnContent"/> is true only when the
/// copy for this recipient would have left unencrypted anyway: content that had to be encrypted
/// never travels back in a bounce in plaintext, whatever RET the client asked for.
/// </summary>
public sealed record FailedRecipient(string Address, SmtpReply Reply, string Explanation, string Action = FailedRecipient.Failed,
    DateTimeOffset? WillRetryUntil = null, bool MayReturnContent = false)
{
    public const string Failed = "failed";
    public const string Delayed = "delayed";
}
