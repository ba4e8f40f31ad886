using Gateway.Pipeline;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// Copies of large messages take at most one slot less than there are, so a burst of them, each
/// signed and encrypted for seconds, cannot make a small message wait for all of them.
/// </summary>
public sealed class TransformSlotsTests
{
    [Fact]
    public async Task WhileLargeCopiesHoldAllTheyMay_ASmallOneGetsASlotAtOnce_AndAnotherLargeOneWaits()
    {
        var slots = new TransformSlots(4);
        var large = new List<IDisposable>();
        for (var i = 0; i < 3; i++) large.Add(await slots.EnterAsync(large: true, CancellationToken.None));

        var fourthLarge = slots.EnterAsync(large: true, CancellationToken.None);
        var small = slots.EnterAsync(large: false, CancellationToken.None);

        Assert.True(small.IsCompletedSuccessfully, "a small copy waited for large ones");
        Assert.False(fourthLarge.IsCompleted);
        large[0].Dispose();
        (await fourthLarge.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        (await small).Dispose();
    }

    [Fact]
    public async Task NoMoreCopiesThanSlots_AreMadeAtOnce_WhateverTheirSize()
    {
        var slots = new TransformSlots(2);
        var held = new[] { await slots.EnterAsync(large: false, CancellationToken.None), await slots.EnterAsync(large: true, CancellationToken.None) };

        var third = slots.EnterAsync(large: false, CancellationToken.None);

        Assert.False(third.IsCompleted);
        held[1].Dispose();
        held[1].Dispose(); // a second dispose gives nothing back twice
        (await third.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        var fourth = slots.EnterAsync(large: true, CancellationToken.None);
        Assert.True(fourth.IsCompletedSuccessfully);
        var fifth = slots.EnterAsync(large: false, CancellationToken.None);
        Assert.False(fifth.IsCompleted);
        held[0].Dispose();
        (await fifth.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        (await fourth).Dispose();
    }

    [Fact]
    public async Task ALargeCopyCancelledWhileWaiting_GivesBackTheLargeSlotItHeld()
    {
        var slots = new TransformSlots(3); // two of them for large copies
        var small = new List<IDisposable>();
        for (var i = 0; i < 3; i++) small.Add(await slots.EnterAsync(large: false, CancellationToken.None));
        using var cancel = new CancellationTokenSource();

        // It takes a large slot, then waits for one of all, which the small copies hold.
        var waiting = slots.EnterAsync(large: true, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        small.ForEach(s => s.Dispose());

        var first = slots.EnterAsync(large: true, CancellationToken.None);
        var second = slots.EnterAsync(large: true, CancellationToken.None);
        Assert.True(first.IsCompletedSuccessfully && second.IsCompletedSuccessfully, "a large slot was kept by the cancelled wait");
        (await first).Dispose();
        (await second).Dispose();
    }
}
