namespace Gateway.Mail;

/// <summary>
/// What the SMTP client told us, as opposed to what the headers claim. Relaying always uses
/// the envelope, never From/To headers.
/// </summary>
public sealed record Envelope(
    string Id,
    string MailFrom,
    IReadOnlyList<string> Recipients,
    string ClientAddress,
    DateTimeOffset ReceivedAt,
    string? HeloName = null)
{
    public MailAddress Sender => MailAddress.Parse(MailFrom);
}
