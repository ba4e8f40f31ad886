using Gateway.Relay;
using Gateway.Spool;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// An upstream that sits on every copy (a content filter that hangs) until it holds
/// <paramref name="count"/> at once, then accepts them all; after <paramref name="wait"/> it
/// accepts what it holds all the same, and <see cref="MostHeldAtOnce"/> tells how many that was.
/// </summary>
internal sealed class HoldingRelay(int count, TimeSpan wait) : IRelay
{
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<int>? _whileHeld;
    private int _held;
    private int _mostHeld;

    /// <param name="whileHeld">Called once, with the count, when all of them are held and none is answered yet.</param>
    public HoldingRelay(int count, TimeSpan wait, Action<int> whileHeld) : this(count, wait) => _whileHeld = whileHeld;

    public int MostHeldAtOnce => Volatile.Read(ref _mostHeld);

    public async Task<IReadOnlyList<RecipientRelayResult>> SendAsync(string copyName, string mailFrom, IReadOnlyList<string> recipients, Stream content, DsnParameters? dsn, CancellationToken cancellationToken)
    {
        var held = Interlocked.Increment(ref _held);
        int most;
        while ((most = Volatile.Read(ref _mostHeld)) < held && Interlocked.CompareExchange(ref _mostHeld, held, most) != most) { }
        if (held == count)
        {
            _whileHeld?.Invoke(held);
            _all.TrySetResult();
        }
        try
        {
            await _all.Task.WaitAsync(wait, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Fewer ever came at once: MostHeldAtOnce says so.
        }
        finally
        {
            Interlocked.Decrement(ref _held);
        }
        return recipients.Select(r => new RecipientRelayResult(r, RelayOutcome.Accepted, $"250 2.0.0 {copyName} accepted after the hold")).ToList();
    }
}
