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

    public bool IsFinished => Recipients.All(r => !r.IsOpen);

    public Envelope ToEnvelope() =>
        new(Id, MailFrom, Recipients.Select(r => r.Address).ToList(), Client, ReceivedAt, Helo);
}
