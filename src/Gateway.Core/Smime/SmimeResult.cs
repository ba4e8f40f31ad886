namespace Gateway.Smime;

/// <summary>What the transformation did, for the audit log: never content, only identities and algorithms.</summary>
public sealed record SmimeResult(
    bool Signed,
    bool Encrypted,
    string? SignerThumbprint,
    IReadOnlyList<string> RecipientThumbprints,
    string Algorithms,
    string? Note = null);
