using System.Text;
using Gateway.Certificates;
using Gateway.Pipeline;
using Gateway.Policy;

namespace Gateway.Tests.Pipeline;

/// <summary>How the planner asks for the recipients' certificates.</summary>
public sealed class MessagePlannerTests
{
    /// <summary>Answers every lookup with "none" (naming the address) after a pause, counting how many are in flight at once.</summary>
    private sealed class SlowDirectory : ICertificateDirectory
    {
        private int _inFlight;
        public int MostAtOnce { get; private set; }
        public int Asked { get; private set; }
        public List<bool> Fresh { get; } = [];

        public ValueTask<CertificateChoice> FindSignerAsync(string address, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new CertificateChoice(null, [], "none", []));

        public async ValueTask<CertificateChoice> FindRecipientAsync(string address, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _inFlight);
            lock (this)
            {
                MostAtOnce = Math.Max(MostAtOnce, now);
                Asked++;
                Fresh.Add(FreshLookups.Required);
            }
            await Task.Delay(100, cancellationToken);
            Interlocked.Decrement(ref _inFlight);
            return new CertificateChoice(null, [], $"no encryption certificate known for {address}", []);
        }
    }

    /// <summary>
    /// A directory answering in 100 ms would make a 40-recipient message wait 4 s asked one at a
    /// time; the lookups run side by side, at most 8, and each recipient still gets its own answer.
    /// </summary>
    [Fact]
    public async Task RecipientsCertificates_AreLookedUpSideBySide_AtMostEightAtOnce()
    {
        var policy = PolicyCompiler.Compile(Encoding.UTF8.GetBytes("""
            { "default": { "sign": "never", "encrypt": "ifPossible", "missingCertificate": "refuse" }, "rules": [] }
            """), "policy.json").Snapshot!;
        var recipients = Enumerable.Range(0, 40).Select(i => $"r{i}@partner.test").ToList();
        var directory = new SlowDirectory();

        var plan = await new MessagePlanner(directory).PlanAsync(policy, "alice@example.test", recipients, MessageFacts.Empty, lookupGraceOver: false, CancellationToken.None);

        Assert.Equal(40, directory.Asked);
        Assert.InRange(directory.MostAtOnce, 2, 8);
        var planned = plan.Groups.SelectMany(g => g.Recipients).Concat(plan.Refused).Concat(plan.Held).Concat(plan.Deferred).ToList();
        Assert.Equal(recipients.Order(), planned.Select(r => r.Address).Order());
        // Each recipient was decided on its own lookup's answer.
        Assert.All(planned, r => Assert.EndsWith($"known for {r.Address}", r.Certificate!.Reason));
        Assert.DoesNotContain(true, directory.Fresh);
    }

    /// <summary>Past the lookup grace "unavailable" decides, so no source may answer from a recent failure (<see cref="FreshLookups"/>).</summary>
    [Fact]
    public async Task PastTheLookupGrace_EveryLookupIsFresh()
    {
        var policy = PolicyCompiler.Compile(Encoding.UTF8.GetBytes("""
            { "default": { "sign": "never", "encrypt": "ifPossible", "missingCertificate": "refuse" }, "rules": [] }
            """), "policy.json").Snapshot!;
        var directory = new SlowDirectory();

        await new MessagePlanner(directory).PlanAsync(policy, "alice@example.test", ["a@partner.test", "b@partner.test", "c@partner.test"], MessageFacts.Empty, lookupGraceOver: true, CancellationToken.None);
        await new MessagePlanner(directory).PlanAsync(policy, "alice@example.test", ["d@partner.test"], MessageFacts.Empty, lookupGraceOver: true, CancellationToken.None);

        Assert.Equal([true, true, true, true], directory.Fresh);
        Assert.False(FreshLookups.Required);
    }
}
