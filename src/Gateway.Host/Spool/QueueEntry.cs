namespace Gateway.Spool;

/// <summary>One entry as <c>gateway queue</c> shows it: its name (ID, or ID-N for a policy hold copy), its folder and its envelope.</summary>
public sealed record QueueEntry(string Name, string Queue, SpoolEnvelope Envelope)
{
    public const string IncomingQueue = "incoming";
    public const string HoldQueue = "hold";

    /// <summary>In the accept journal: in its first attempt (or left by a stopped gateway, moved to incoming/ at its next start).</summary>
    public const string JournalQueue = "journal";
}

/// <summary>What a queue action did, in words for the admin; <see cref="Succeeded"/> decides the exit code.</summary>
public sealed record QueueActionResult(bool Succeeded, string Message);
