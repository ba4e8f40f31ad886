using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// The outcome of picking one certificate for an address: the chosen one (if any) with its chain,
/// the reason it won, and every rejected candidate with its problems, for the audit log.
/// </summary>
public sealed record CertificateChoice(
    CertificateCandidate? Selected,
    IReadOnlyList<X509Certificate2> ChainWithoutRoot,
    string Reason,
    IReadOnlyList<string> Rejected)
{
    public bool Found => Selected is not null;
}
