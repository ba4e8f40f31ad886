using Gateway.Mail;

namespace Gateway.Spool;

/// <summary>
/// The envelope file beside each queued message. It is written last when a message is accepted
/// and is the commit marker: content without it was never acknowledged.
/// </summary>
public sealed class SpoolEnvelope
{
    public int Version { get; set; } = 1;
    public required string Id { get; init; }
    public required string MailFrom { get; init; }
    public required List<SpoolRecipient> Recipients { get; init; }
    public required string Client { get; init; }
    public string? Helo { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public long Size { get; init; }
    public int Attempts { get; set; }
    public DateTimeOffset? NextAttempt { get; set; }

    /// <summary>Attempts in a row that failed inside Gateway (not upstream); reset by an attempt that gets through.</summary>
    public int ProcessingFailures { get; set; }

    /// <summary>ENVID from MAIL FROM (RFC 3461): echoed as Original-Envelope-Id in our reports and passed upstream.</summary>
    public string? EnvelopeId { get; init; }

    /// <summary>RET from MAIL FROM: "FULL" or "HDRS" (RFC 3461); null when the client did not say.</summary>
    public string? Return { get; init; }

    /// <summary>When the sender was told that delivery is delayed (once per message).</summary>
    public DateTimeOffset? DelayWarningSent { get; set; }

    /// <summary>
    /// A held copy parked by the policy because a certificate was missing (<see cref="Certificate"/>):
    /// it goes out by itself once the policy would deliver it. Null for every other hold (an admin's,
    /// a message Gateway could not process), which waits for an admin.
    /// </summary>
    public string? WaitsFor { get; set; }

    public const string Certificate = "certificate";

    /// <summary>No recipient is open and no report is owed for any: the entry can leave the queue.</summary>
    public bool IsFinished => Recipients.All(r => !r.IsOpen && r.ReportOwed is null);

    /// <summary>A copy under another id with other recipients (hold and release), attempts and schedule reset.</summary>
    public SpoolEnvelope With(string id, List<SpoolRecipient> recipients) => new()
    {
        Id = id, MailFrom = MailFrom, Recipients = recipients, Client = Client, Helo = Helo, ReceivedAt = ReceivedAt, Size = Size,
        EnvelopeId = EnvelopeId, Return = Return, DelayWarningSent = DelayWarningSent,
    };

    public Envelope ToEnvelope() =>
        new(Id, MailFrom, Recipients.Select(r => r.Address).ToList(), Client, ReceivedAt, Helo);
}
