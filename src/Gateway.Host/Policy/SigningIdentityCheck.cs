using Gateway.Certificates;
using Gateway.Configuration;

namespace Gateway.Policy;

/// <summary>
/// Finds rules that require signing for a sender address nobody can sign for: no usable identity
/// in the certificate sources, and the built-in CA (when on) does not enrol that address. Such a
/// rule would refuse or hold every mail of that sender.
/// </summary>
public static class SigningIdentityCheck
{
    public static async Task<IReadOnlyList<PolicyError>> FindAsync(PolicySnapshot policy, byte[] json, string file, LocalCertificateStore local, GatewayOptions options, CancellationToken cancellationToken)
    {
        var errors = new List<PolicyError>();
        var eligible = (options.Ca.Enabled ? options.Ca.EligibleSenders ?? [] : [])
            .Select(p => AddressPattern.TryParse(p, out var pattern, out _) ? pattern : null)
            .OfType<AddressPattern>()
            .ToList();
        for (var i = 0; i < policy.Rules.Count; i++)
        {
            var rule = policy.Rules[i];
            if (rule.Action.Sign != SignMode.Always) continue;
            for (var j = 0; j < rule.Senders.Count; j++)
            {
                var sender = rule.Senders[j];
                // A group member would be enrolled too; whether this address is one only the directory knows, so it is not reported.
                if (sender.Kind != AddressPattern.PatternKind.Address || eligible.Any(p => p.Matches(sender.Value)) || (options.Ca.Enabled && options.Ca.EligibleGroup is not null)) continue;
                var lookup = await local.FindAsync(sender.Value, CertificateUsage.Signing, cancellationToken);
                var choice = CertificateSelector.Select(lookup.Candidates, sender.Value, CertificateUsage.Signing, local.Trust);
                if (choice.Found) continue;
                var (line, column) = PolicyCompiler.Locate(json, $"$.rules[{i}].senders[{j}]");
                errors.Add(new PolicyError(file, line, column, $"rule '{rule.Name}' signs always for {sender.Value}, but no usable signing identity is known for it ({choice.Reason}) and the built-in CA does not enrol it"));
            }
        }
        return errors;
    }
}
