using System.Net;
using Gateway.Audit;
using Gateway.Outcomes;
using SmtpServer.Protocol;

namespace Gateway.Smtp;

/// <summary>
/// Gateway ending a session on its own (a data timeout, too many errors, an idle client, data too
/// large to keep): the last reply, why, and the transaction the client had open, for the audit.
/// No store sees these sessions, so without this a SIEM would never hear of them.
/// </summary>
internal sealed record SessionClosure(string Reason, string Reply)
{
    /// <summary>The bytes of data dropped as too large to keep; null when the close was for another reason.</summary>
    public long? DroppedBytes { get; init; }

    public string? Sender { get; init; }

    public IReadOnlyList<string> Recipients { get; init; } = [];

    /// <summary>
    /// Its audit record: data too large to keep is a refused message; any other close is
    /// 'session-closed'. <paramref name="endpoint"/> names a listener other than the main one.
    /// </summary>
    public AuditEvent Audit(IPEndPoint client, string? endpoint = null) => DroppedBytes is { } dropped
        ? new AuditEvent("message-refused")
        {
            Client = client.Address.ToString(), Sender = Sender, Recipients = RecipientsOrNull, Size = dropped, Action = "refused", Reply = Reply,
            Reason = $"{MessageSize.AuditReason(endpoint)}; too large to keep, its data was dropped as it arrived and the connection closed",
        }
        : new AuditEvent("session-closed")
        {
            Client = client.Address.ToString(), Sender = Sender, Recipients = RecipientsOrNull, Action = "closed", Reply = Reply,
            Reason = Sender is null ? $"{endpoint}{Reason}" : $"{endpoint}{Reason}; nothing of the open transaction was queued",
        };

    /// <summary>
    /// Unwinds SmtpServer from a command that waits on the client (STARTTLS, AUTH) once the closure
    /// is sent: it ends the session as after a QUIT, with no further read. Its own write of this
    /// reply is dropped, the connection being closed.
    /// </summary>
    public SmtpResponseException EndOfSession() => new(SmtpReply.Parse(Reply).ToResponse(), quit: true);

    private IReadOnlyList<string>? RecipientsOrNull => Recipients.Count > 0 ? Recipients : null;
}
