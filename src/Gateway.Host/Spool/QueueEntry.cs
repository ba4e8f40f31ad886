namespace Gateway.Spool;

/// <summary>One entry as <c>gateway queue</c> shows it: its name (ID, or ID-N for a policy hold copy), its folder and its envelope.</summary>
public sealed record QueueEntry(string Name, string Queue, SpoolEnvelope Envelope)
{
    public const string IncomingQueue = "incoming";
    public const string HoldQueue = "hold";

    /// <summary>In the accept journal: in its first attempt (or left by a stopped gateway, moved to incoming/ at its next start).</summary>
    public const string JournalQueue = "journal";
}

/// <summary>An envelope file <c>gateway queue</c> could not read, and why: named, never a reason to stop listing the others.</summary>
public sealed record UnreadableEntry(string Path, string Problem)
{
    public override string ToString() => $"{Path}: unreadable envelope: {Problem}";
}

/// <summary>What <c>gateway queue list</c> shows: the entries it could read, and the files it could not.</summary>
public sealed record QueueListing(IReadOnlyList<QueueEntry> Entries, IReadOnlyList<UnreadableEntry> Unreadable);

/// <summary>What a queue action did, in words for the admin; <see cref="Succeeded"/> decides the exit code.</summary>
public sealed record QueueActionResult(bool Succeeded, string Message);
