namespace Gateway.Certificates;

/// <summary>
/// At most a few blocking network calls to one server at a time, each on a thread of its own
/// (<see cref="BlockingNetworkCall"/>). A slot belongs to its call's thread until the call
/// returns, however long after its caller stopped waiting: a server whose calls never return (an
/// ldaps:// handshake that libldap 2.5 does not bound) holds that many threads, not that many
/// more each time it is asked again.
/// </summary>
public sealed class BlockingCallSlots(int count)
{
    private readonly SemaphoreSlim _slots = new(count);

    public int Count => count;

    /// <summary>
    /// Starts <paramref name="call"/> once a slot is free, waiting at most <paramref name="wait"/>
    /// for one; null when none came free (every slot is held by a call still waiting for the server).
    /// </summary>
    public async Task<Task<T>?> TryStartAsync<T>(Func<T> call, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (!await _slots.WaitAsync(wait, cancellationToken)) return null;
        Task<T> running;
        try
        {
            running = BlockingNetworkCall.RunAsync(call, CancellationToken.None);
        }
        catch
        {
            _slots.Release();
            throw;
        }
        _ = running.ContinueWith(static (_, slots) => ((SemaphoreSlim)slots!).Release(), _slots, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return running;
    }
}
