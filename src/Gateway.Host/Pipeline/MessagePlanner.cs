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
    /// <param name="lookupGraceOver">The message has waited Certificates:LookupFailureGrace for unavailable sources; they now count as "no certificate".</param>
    public async Task<DeliveryPlan> PlanAsync(PolicySnapshot policy, string sender, IReadOnlyList<string> recipients, MessageFacts facts, bool lookupGraceOver, CancellationToken cancellationToken)
    {
        var answers = recipients.Select(r => policy.Evaluate(sender, r, facts)).ToList();
        CertificateChoice? signer = null;
        if (answers.Any(p => p.Sign != SignMode.Never) && sender.Length > 0)
            signer = await certificates.FindSignerAsync(sender, cancellationToken);
        var planned = new List<PlannedRecipient>();
        foreach (var answer in answers)
        {
            var certificate = answer.Encrypt == EncryptMode.Never ? null : await certificates.FindRecipientAsync(answer.Recipient, cancellationToken);
            planned.Add(DeliveryPlanner.Decide(answer, signer, certificate, sender, lookupGraceOver));
        }
        // Who the header names matters only where two recipients or more could share an encrypted copy.
        var named = planned.Count(p => p.Encrypt) > 1 ? facts.NamedRecipients() : null;
        return DeliveryPlanner.Plan(policy.Revision, signer, planned, named);
    }
}
