namespace Gateway.Certificates;

/// <summary>
/// What one source answered for one address: the candidates it holds (possibly none), or a
/// temporary failure (a directory down or too slow). "None" and "could not ask" are different
/// answers: only the first may ever lead to plaintext.
/// </summary>
public sealed record CertificateLookup(IReadOnlyList<CertificateCandidate> Candidates, string? TemporaryFailure)
{
    public static CertificateLookup None { get; } = new([], null);

    public bool Failed => TemporaryFailure is not null;

    public static CertificateLookup Found(IReadOnlyList<CertificateCandidate> candidates) => new(candidates, null);

    public static CertificateLookup Unavailable(string reason) => new([], reason);
}
