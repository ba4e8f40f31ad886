using Gateway.Certificates;
using Gateway.Policy;

namespace Gateway.Pipeline;

/// <summary>
/// Step 1 of processing: the policy's answer per recipient, the certificates it needs, and the
/// decision. Shared by the processor and <c>gateway policy explain</c>, so what explain prints is
/// what the running gateway does.
/// </summary>
public sealed class MessagePlanner(ICertificateDirectory certificates)
{
    /// <summary>
    /// Recipients' certificates looked up at once per message: a directory answering in 50 ms makes
    /// a 500-recipient newsletter wait 25 s when asked one at a time. Bounded, so one message does
    /// not open hundreds of directory connections.
    /// </summary>
    private const int ConcurrentLookups = 8;

    /// <param name="lookupGraceOver">The message has waited Certificates:LookupFailureGrace for unavailable sources; they now count as "no certificate".</param>
    public async Task<DeliveryPlan> PlanAsync(PolicySnapshot policy, string sender, IReadOnlyList<string> recipients, MessageFacts facts, bool lookupGraceOver, CancellationToken cancellationToken)
    {
        var answers = recipients.Select(r => policy.Evaluate(sender, r, facts)).ToList();
        CertificateChoice? signer = null;
        if (answers.Any(p => p.Sign != SignMode.Never) && sender.Length > 0)
            signer = await certificates.FindSignerAsync(sender, cancellationToken);
        var found = new CertificateChoice?[answers.Count];
        // Past the grace "unavailable" decides: every directory is asked, also one that just failed.
        using var fresh = lookupGraceOver ? FreshLookups.Begin() : null;
        var lookups = Enumerable.Range(0, answers.Count).Where(i => answers[i].Encrypt != EncryptMode.Never).ToList();
        if (lookups.Count == 1)
            found[lookups[0]] = await certificates.FindRecipientAsync(answers[lookups[0]].Recipient, cancellationToken);
        else if (lookups.Count > 1)
            await Parallel.ForEachAsync(lookups, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentLookups, CancellationToken = cancellationToken },
                async (i, token) => found[i] = await certificates.FindRecipientAsync(answers[i].Recipient, token));
        var planned = new List<PlannedRecipient>();
        for (var i = 0; i < answers.Count; i++)
            planned.Add(DeliveryPlanner.Decide(answers[i], signer, found[i], sender, lookupGraceOver));
        // Who the header names matters only where two recipients or more could share an encrypted copy.
        var named = planned.Count(p => p.Encrypt) > 1 ? facts.NamedRecipients() : null;
        return DeliveryPlanner.Plan(policy.Revision, signer, planned, named);
    }
}
