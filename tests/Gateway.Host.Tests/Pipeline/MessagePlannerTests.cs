using System.Text;
using Gateway.Certificates;
using Gateway.Pipeline;
using Gateway.Policy;

namespace Gateway.Tests.Pipeline;

/// <summary>How the planner asks for the recipients' certificates.</summary>
public sealed class MessagePlannerTests
{
    /// <summary>Answers every lookup with "none" after a pause, counting how many are in flight at once.</summary>
    private sealed class SlowDirectory : ICertificateDirectory
    {
        private int _inFlight;
        public int MostAtOnce { get; private set; }
        public int Asked { get; private set; }

        public ValueTask<CertificateChoice> FindSignerAsync(string address, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new CertificateChoice(null, [], "none", []));

        public async ValueTask<CertificateChoice> FindRecipientAsync(string address, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _inFlight);
            lock (this)
            {
                MostAtOnce = Math.Max(MostAtOnce, now);
                Asked++;
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
        var planned = plan.Groups.SelectMany(g => g.Recipients).Select(r => r.Address).Order().ToList();
        Assert.Equal(recipients.Order(), planned);
    }
}
