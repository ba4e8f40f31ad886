namespace Gateway.Mail;

/// <summary>
/// A recipient's RFC 3461 RCPT parameters: NOTIFY (null when the client did not say) and ORCPT
/// as received ("rfc822;" and the address in xtext), which our reports echo as Original-Recipient.
/// </summary>
public sealed record RecipientDsn(DsnNotify? Notify, string? OriginalRecipient);
