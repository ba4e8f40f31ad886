using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// The outcome of picking one certificate for an address: the chosen one (if any) with its chain,
/// the reason it won, and every rejected candidate with its problems, for the audit log. When no
/// usable certificate was found and a source could not be asked, <see cref="TemporaryFailure"/>
/// says which: the recipient must wait, not be treated as having no certificate.
/// </summary>
public sealed record CertificateChoice(
    CertificateCandidate? Selected,
    IReadOnlyList<X509Certificate2> ChainWithoutRoot,
    string Reason,
    IReadOnlyList<string> Rejected)
{
    public bool Found => Selected is not null;

    /// <summary>
    /// The other usable, unrevoked certificates of the address, newest first (encryption only):
    /// a recipient who renewed, or holds a key per device, can decrypt with any of them.
    /// </summary>
    public IReadOnlyList<UsableCertificate> AlsoUsable { get; init; } = [];

    /// <summary>Every certificate a copy is encrypted to for this address: the chosen one, then <see cref="AlsoUsable"/>.</summary>
    public IReadOnlyList<X509Certificate2> ForEncryption => Selected is null ? [] : [Selected.Certificate, .. AlsoUsable.Select(u => u.Candidate.Certificate)];

    /// <summary>
    /// Signing only: the certificate partners should encrypt replies to, first, and its
    /// intermediates; the signature names it (SMIMEEncryptionKeyPreference) and carries it. The
    /// signer's own chain when its key may encrypt; the sender's encryption certificate when the
    /// signing one only signs (a dual-key identity); empty when there is none. Null when the
    /// choice was not made by <see cref="CertificateResolver"/> (see <see cref="Smime.SmimeRequest.ReplyCertificateChain"/>).
    /// </summary>
    public IReadOnlyList<X509Certificate2>? ReplyChain { get; init; }

    /// <summary>
    /// Signing only: Gateway holds the key of the certificate named for replies (the signer's own,
    /// or another identity of the sender), so it can decrypt what partners send to it. False when
    /// the user's own client holds it, or none is named: the signature then advertises only the
    /// ciphers every client reads (<see cref="Smime.SmimeRequest.DecryptsReplies"/>).
    /// </summary>
    public bool ReplyKeyHeld { get; init; } = true;

    /// <summary>Why a source could not answer (directory down, timeout); only set when nothing usable was found.</summary>
    public string? TemporaryFailure { get; init; }

    public bool Unavailable => !Found && TemporaryFailure is not null;
}
