using MailKit.Net.Smtp;
using MimeKit;

namespace Gateway.Relay;

/// <summary>
/// MailKit's SmtpClient with the behaviours a relay needs changed: it never re-encodes the
/// message (that would break the signature), a rejected recipient is recorded instead of
/// aborting the whole transaction, and the client's ENVID goes upstream (MailKit sends it, and
/// RET, only when the upstream advertises DSN).
/// </summary>
internal sealed class RelayClient : SmtpClient
{
    public List<(string Recipient, SmtpResponse Response)> Rejected { get; } = [];

    public string? EnvelopeId { get; set; }

    /// <summary>Clears what the previous message on this connection left.</summary>
    public void StartMessage(Spool.DsnParameters? dsn)
    {
        Rejected.Clear();
        EnvelopeId = dsn?.EnvelopeId;
        DeliveryStatusNotificationType = dsn?.Return switch
        {
            "FULL" => MailKit.Net.Smtp.DeliveryStatusNotificationType.Full,
            "HDRS" => MailKit.Net.Smtp.DeliveryStatusNotificationType.HeadersOnly,
            _ => MailKit.Net.Smtp.DeliveryStatusNotificationType.Unspecified,
        };
    }

    protected override string? GetEnvelopeId(MimeMessage message) => EnvelopeId;

    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
    }

    /// <summary>A raw message knows its size; MailKit would otherwise write it once more just to count the bytes.</summary>
    protected override long GetSize(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
        message.Body is RawBody raw ? raw.Length : base.GetSize(options, message, cancellationToken);

    /// <summary>What SendAsync asks (the relay's path); <see cref="GetSize"/> serves only the synchronous Send.</summary>
    protected override Task<long> GetSizeAsync(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
        message.Body is RawBody raw ? Task.FromResult(raw.Length) : base.GetSizeAsync(options, message, cancellationToken);

    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
        Rejected.Add((mailbox.Address, response));
}
