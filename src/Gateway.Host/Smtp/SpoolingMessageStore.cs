using System.Buffers;
using System.Net;
using System.Text;
using Gateway.Audit;
using Gateway.Configuration;
using Gateway.Mail;
using Gateway.Outcomes;
using Gateway.Spool;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Gateway.Smtp;

/// <summary>
/// DATA ends here: the message is screened (<see cref="DataScreen"/>), then it and its envelope go
/// to disk (fsynced) behind our Received and loop-marker lines before we answer 250. Every
/// failure is answered, never thrown: SmtpServer turns an exception into a 554 (a permanent
/// bounce for our own fault) and an SmtpResponseException into no reply at all.
/// </summary>
internal sealed partial class SpoolingMessageStore(FileSpool spool, AcceptJournal journal, SpoolQueue queue, IAuditLog audit, IOptions<GatewayOptions> options,
    SenderBinding binding, ILogger<SpoolingMessageStore> logger) : IMessageStore
{
    private readonly long _maxMessageSize = options.Value.Smtp.MaxMessageSize;
    private readonly DataScreenLimits _limits = new(
        options.Value.Smtp.BareNewline == BareNewlineHandling.Reject, options.Value.Smtp.MaxHeaderSize,
        options.Value.Smtp.MaxHops, options.Value.Smtp.MaxLoopMarkers, options.Value.Smtp.ServerName);

    public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        var client = ClientAddress(context);
        var from = EnvelopeAddress.SenderOf(context, transaction.From);
        var recipients = transaction.To.Select(t => EnvelopeAddress.RecipientOf(context, t)).ToList();
        // CommandLineReader put one CRLF before the data so that SmtpServer sees every line,
        // the first included, behind a line end; it is not part of the message.
        if (buffer.Length >= 2) buffer = buffer.Slice(2);
        // The size limit counts the CRLF before the final dot (RFC 1870), the data screen's record the data handed over.
        if (MessageSize.Exceeds(buffer.Length, _maxMessageSize))
            return await RefuseAsync(MessageSize.Reply, buffer.Length + 2, client, from, recipients, MessageSize.AuditReason());
        if (DataScreen.Check(buffer, _limits) is { } refusal)
            return await RefuseAsync(Failures.Reply(refusal), buffer.Length, client, from, recipients);
        if (binding.ForeignFrom(context, buffer) is { } foreign)
        {
            // The reply stays generic; the audit line names the address.
            var reply = Failures.Reply(FailureKind.SenderNotOwned, "From header address not owned by the authenticated user");
            await audit.TryWriteAsync(new AuditEvent("message-refused")
            {
                Client = client, Sender = from, User = context.Authentication?.User, Recipients = recipients, Size = buffer.Length, Action = "refused",
                Reason = $"From: {foreign} is not owned by the authenticated user (Gateway:Smtp:Auth:RequireOwnSender)", Reply = reply.ToString(),
            });
            return reply.ToResponse();
        }
        if (!spool.HasRoomFor(buffer.Length))
        {
            LogNoRoom(client, buffer.Length);
            return await RefuseAsync(Failures.Reply(FailureKind.SpoolFull), buffer.Length, client, from, recipients);
        }
        SpoolEnvelope envelope;
        try
        {
            // Not the session's token: a session timeout in the middle of fsync must not leave
            // a half-committed entry; the write finishes, and the client retries if it missed the 250.
            envelope = await journal.AcceptAsync(buffer, from, recipients, client, null, DsnParameters.From(transaction.Parameters, EnvelopeFilter.RecipientDsnOf(context, transaction.To)), (id, time) => Trace(context, client, id, time), CancellationToken.None);
        }
        catch (Exception e)
        {
            var full = e is IOException io && IsDiskFull(io);
            LogSpoolFailure(e, client, full);
            return await RefuseAsync(Failures.Reply(full ? FailureKind.SpoolFull : FailureKind.SpoolUnavailable), buffer.Length, client, from, recipients);
        }
        var received = await audit.TryWriteAsync(new AuditEvent("received")
        {
            SpoolId = envelope.Id, Client = client, Sender = from, Recipients = recipients, Size = envelope.Size, Action = "queued",
        });
        // No mail goes through unaccounted for: without its audit line the message is taken back and
        // the client keeps it (4xx). A 4xx for a message that is kept anyway would have it sent twice.
        if (!received)
        {
            if (await journal.WithdrawAsync(envelope.Id))
            {
                LogWithdrawn(envelope.Id, client);
                return Failures.Reply(FailureKind.SpoolUnavailable).ToResponse();
            }
            LogKeptUnaudited(envelope.Id, client);
        }
        queue.Enqueue(envelope.Id);
        return new SmtpResponse(SmtpReplyCode.Ok, $"2.0.0 queued as {envelope.Id}");
    }

    /// <summary>A message refused before it is spooled: audited (if the audit log can be written: it is refused either way), and answered.</summary>
    private async Task<SmtpResponse> RefuseAsync(SmtpReply reply, long size, string client, string from, IReadOnlyList<string> recipients, string? reason = null)
    {
        await audit.TryWriteAsync(new AuditEvent("message-refused")
        {
            Client = client, Sender = from, Recipients = recipients, Size = size, Action = "refused", Reason = reason ?? reply.Text, Reply = reply.ToString(),
        });
        return reply.ToResponse();
    }

    /// <summary>
    /// Our Received line (RFC 5321 §4.4: every relay adds one; it is what hop counts count) and our
    /// loop marker. Both go above the client's headers, outside anything we sign later.
    /// </summary>
    private byte[] Trace(ISessionContext context, string client, string id, DateTimeOffset time) => Encoding.ASCII.GetBytes(
        ReceivedLine.Of(context, client, _limits.ServerName, id, time) + $"{DataScreenLimits.LoopHeader}: {_limits.ServerName}\r\n");

    internal static string ClientAddress(ISessionContext context) =>
        context.Properties.TryGetValue(EndpointListener.RemoteEndPointKey, out var endpoint) && endpoint is IPEndPoint ip
            ? ip.Address.ToString()
            : "unknown";

    /// <summary>
    /// .NET on Linux puts the raw errno into HResult for I/O errors it has no special exception for
    /// (checked on a full tmpfs by DiskFullTests); Windows uses ERROR_DISK_FULL/ERROR_HANDLE_DISK_FULL.
    /// </summary>
    private static bool IsDiskFull(IOException e) => OperatingSystem.IsWindows()
        ? (e.HResult & 0xFFFF) is 39 or 112
        : e.HResult is 28 or 122; // ENOSPC, EDQUOT

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Refused a message of {Size} bytes from {Client} with 452: the spool's file system is below Gateway:Spool:MinimumFreeSpace")]
    private partial void LogNoRoom(string client, long size);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "Message {Id} from {Client} taken back and refused with 451: its audit line could not be written")]
    private partial void LogWithdrawn(string id, string client);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Error, Message = "Message {Id} from {Client} is queued without its audit line: it could not be taken back either")]
    private partial void LogKeptUnaudited(string id, string client);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "Could not spool a message from {Client} (disk full: {DiskFull})")]
    private partial void LogSpoolFailure(Exception exception, string client, bool diskFull);
}
