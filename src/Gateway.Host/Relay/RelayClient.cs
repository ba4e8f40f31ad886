using MailKit;
using MailKit.Net.Smtp;
using MimeKit;

namespace Gateway.Relay;

/// <summary>
/// MailKit's SmtpClient with the behaviours a relay needs changed: it never re-encodes the
/// message (that would break the signature), a rejected recipient is recorded instead of
/// aborting the whole transaction, and the client's ENVID, RET and each recipient's NOTIFY go
/// upstream (MailKit sends them only when the upstream advertises DSN). MailKit writes ORCPT
/// itself, from the recipient's address, whenever it writes NOTIFY: the client's own ORCPT cannot
/// be passed on, and is echoed in our own reports only.
/// </summary>
internal sealed class RelayClient : SmtpClient
{
    /// <summary>The recipients the upstream refused, as the very mailboxes given to SendAsync (their address may read otherwise: MimeKit decodes xn-- domains).</summary>
    public List<(MailboxAddress Mailbox, SmtpResponse Response)> Rejected { get; } = [];

    public string? EnvelopeId { get; set; }

    /// <summary>BDAT when the upstream offers CHUNKING (Relay:Chunking); MailKit uses it otherwise only for BINARYMIME.</summary>
    public bool Chunking { get; init; }

    protected override bool PreferSendAsBinaryData => Chunking;

    private readonly Dictionary<MailboxAddress, Gateway.Mail.DsnNotify> _notify = new(ReferenceEqualityComparer.Instance);

    /// <summary>Whether the upstream offers DSN, so what the client asked went with the message.</summary>
    public bool PassesDsn => (Capabilities & SmtpCapabilities.Dsn) != 0;

    /// <summary>Clears what the previous message on this connection left.</summary>
    /// <param name="recipients">The mailboxes this message goes to (null for one that cannot be written), in the order <paramref name="dsn"/> lists theirs.</param>
    public void StartMessage(Spool.DsnParameters? dsn, IReadOnlyList<MailboxAddress?> recipients)
    {
        Rejected.Clear();
        _notify.Clear();
        for (var i = 0; i < recipients.Count; i++)
            if (recipients[i] is { } mailbox && dsn?.For(i)?.Notify is { } notify) _notify[mailbox] = notify;
        // MailKit writes it as xtext: given the xtext as received, "+" would be encoded a second time.
        EnvelopeId = dsn?.EnvelopeId is { } envelopeId ? Gateway.Mail.Xtext.Decode(envelopeId) : null;
        DeliveryStatusNotificationType = dsn?.Return switch
        {
            "FULL" => MailKit.Net.Smtp.DeliveryStatusNotificationType.Full,
            "HDRS" => MailKit.Net.Smtp.DeliveryStatusNotificationType.HeadersOnly,
            _ => MailKit.Net.Smtp.DeliveryStatusNotificationType.Unspecified,
        };
    }

    protected override string? GetEnvelopeId(MimeMessage message) => EnvelopeId;

    protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox)
    {
        if (!_notify.TryGetValue(mailbox, out var notify)) return null;
        if ((notify & Gateway.Mail.DsnNotify.Never) != 0) return DeliveryStatusNotification.Never;
        var asked = default(DeliveryStatusNotification);
        if ((notify & Gateway.Mail.DsnNotify.Success) != 0) asked |= DeliveryStatusNotification.Success;
        if ((notify & Gateway.Mail.DsnNotify.Failure) != 0) asked |= DeliveryStatusNotification.Failure;
        if ((notify & Gateway.Mail.DsnNotify.Delay) != 0) asked |= DeliveryStatusNotification.Delay;
        return asked;
    }

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
        Rejected.Add((mailbox, response));
}
