namespace Gateway.Certificates;

/// <summary>
/// Lookups that must ask every source now, not take a directory's recent failure for its answer:
/// those of a message past Certificates:LookupFailureGrace, where "unavailable" is decided as "no
/// certificate" (plaintext under ifPossible). A directory that failed seconds ago may answer
/// again, and must be given the chance. Ambient (it flows into the lookups the planner starts),
/// because the sources sit below several layers of directories that have no say in it.
/// </summary>
public static class FreshLookups
{
    private static readonly AsyncLocal<bool> Current = new();

    /// <summary>True inside <see cref="Begin"/>, in this flow and the tasks it starts.</summary>
    public static bool Required => Current.Value;

    /// <summary>Until disposed, sources ask even a directory that just failed.</summary>
    public static IDisposable Begin()
    {
        var before = Current.Value;
        Current.Value = true;
        return new Scope(before);
    }

    private sealed class Scope(bool before) : IDisposable
    {
        public void Dispose() => Current.Value = before;
    }
}
