namespace Gateway.Certificates;

/// <summary>
/// Picks the best usable certificate for an address. Among several usable ones the most recently
/// issued wins (a renewal or a re-key supersedes the older certificate), then the one valid
/// longest, then the thumbprint, so the choice is deterministic. The others usable are kept, in
/// that order, for encryption to every current certificate (<see cref="CertificateChoice.AlsoUsable"/>).
/// </summary>
public static class CertificateSelector
{
    public static CertificateChoice Select(IEnumerable<CertificateCandidate> candidates, string address, CertificateUsage usage, TrustContext trust)
    {
        var usable = new List<(CertificateCandidate Candidate, CertificateVerdict Verdict)>();
        var rejected = new List<string>();
        foreach (var candidate in candidates)
        {
            var verdict = SmimeCertificateValidator.Validate(candidate.Certificate, address, usage, trust.WithIntermediates(candidate.Intermediates));
            if (verdict.Usable) usable.Add((candidate, verdict));
            else rejected.Add($"{candidate.Certificate.Thumbprint} from {candidate.Source}: {string.Join("; ", verdict.Problems)}");
        }

        if (usable.Count == 0)
        {
            var why = rejected.Count == 0
                ? $"no {Describe(usage)} certificate known for {address}"
                : $"no usable {Describe(usage)} certificate for {address} ({rejected.Count} rejected)";
            return new CertificateChoice(null, [], why, rejected);
        }

        var ordered = usable
            .OrderByDescending(u => u.Candidate.Certificate.NotBefore)
            .ThenByDescending(u => u.Candidate.Certificate.NotAfter)
            .ThenBy(u => u.Candidate.Certificate.Thumbprint, StringComparer.Ordinal)
            .ToList();
        var best = ordered[0];
        var reason = ordered.Count == 1
            ? $"only usable certificate (from {best.Candidate.Source})"
            : $"newest of {ordered.Count} usable certificates (issued {best.Candidate.Certificate.NotBefore.ToUniversalTime():u}, from {best.Candidate.Source})";
        return new CertificateChoice(best.Candidate, best.Verdict.ChainWithoutRoot, reason, rejected)
        {
            AlsoUsable = usage == CertificateUsage.Encryption ? ordered.Skip(1).Select(u => new UsableCertificate(u.Candidate, u.Verdict.ChainWithoutRoot)).ToList() : [],
        };
    }

    private static string Describe(CertificateUsage usage) => usage == CertificateUsage.Signing ? "signing" : "encryption";
}
