using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// Asks the configured sources in their order (Gateway:Certificates:Sources) and lets
/// <see cref="CertificateSelector"/> choose among every candidate gathered so far, so each source
/// is held to the same rules and the audit names where the winner came from. The first source
/// that contributes a usable certificate ends the search: the order is the operator's priority
/// (local before the network; the cache before the directory it remembers).
/// When nothing usable was found and a source could not answer, the choice carries that
/// temporary failure: the recipient waits, because the missing source might have had the certificate.
/// A recipient is encrypted to up to <paramref name="maxEncryptionCertificates"/> of its usable,
/// unrevoked certificates, newest first (1: the newest only). A certificate whose key is one of
/// <paramref name="held"/> (Gateway's own identities for the address) is never encrypted to,
/// whichever source gives it.
/// </summary>
public sealed class CertificateResolver(IReadOnlyList<ICertificateSource> sources, TrustContext trust, IRevocationChecker? revocation = null,
    int maxEncryptionCertificates = 1, IHeldIdentities? held = null) : ICertificateDirectory
{
    public IReadOnlyList<ICertificateSource> Sources { get; } = sources;

    public async ValueTask<CertificateChoice> FindSignerAsync(string address, CancellationToken cancellationToken)
    {
        var (signer, identities) = await GatherAsync(address, CertificateUsage.Signing, cancellationToken);
        return signer.Found ? await WithReplyCertificateAsync(signer, identities, address, cancellationToken) : signer;
    }

    public ValueTask<CertificateChoice> FindRecipientAsync(string address, CancellationToken cancellationToken) =>
        ResolveAsync(address, CertificateUsage.Encryption, cancellationToken);

    public async ValueTask<CertificateChoice> ResolveAsync(string address, CertificateUsage usage, CancellationToken cancellationToken) =>
        (await GatherAsync(address, usage, cancellationToken)).Choice;

    /// <summary>The choice, and every candidate the sources gave until it was made.</summary>
    private async ValueTask<(CertificateChoice Choice, List<CertificateCandidate> Candidates)> GatherAsync(string address, CertificateUsage usage, CancellationToken cancellationToken)
    {
        var candidates = new List<CertificateCandidate>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var failures = new List<string>();
        var heldKeys = usage == CertificateUsage.Encryption ? HeldKeys(address) : [];
        var ours = new List<string>();
        CertificateChoice? choice = null;
        foreach (var source in Sources)
        {
            var lookup = await source.FindAsync(address, usage, cancellationToken);
            if (lookup.Failed)
            {
                failures.Add($"{source.Name}: {lookup.TemporaryFailure}");
                continue;
            }
            // The same certificate from two sources (local and cache) is judged once, under the first source's name.
            var added = lookup.Candidates.Where(c => seen.Add(c.Certificate.Thumbprint)).ToList();
            foreach (var own in added.Where(c => heldKeys.Contains(KeyIdentity.Of(c.Certificate))).ToList())
            {
                ours.Add($"{own.Certificate.Thumbprint} from {own.Source}: its key is one of Gateway's own identities for {address}, which the user reads mail without");
                added.Remove(own);
            }
            if (added.Count == 0) continue;
            candidates.AddRange(added);
            choice = await SelectUnrevokedAsync(candidates, address, usage, cancellationToken);
            if (choice.Found || choice.TemporaryFailure is not null) return (WithOurs(choice), candidates);
        }

        choice = WithOurs(choice ?? await SelectUnrevokedAsync(candidates, address, usage, cancellationToken));
        if (failures.Count == 0) return (choice, candidates);
        var unavailable = string.Join("; ", failures);
        return (choice with { Reason = $"{choice.Reason}; not asked: {unavailable}", TemporaryFailure = unavailable }, candidates);

        CertificateChoice WithOurs(CertificateChoice made) => ours.Count == 0 ? made : made with { Rejected = [.. made.Rejected, .. ours] };
    }

    /// <summary>
    /// The public keys of Gateway's own identities for the address (<see cref="PublicKey"/>), so a
    /// re-issued certificate for the same key counts too. An identity file that cannot be read
    /// (the CA's, damaged) does not stop mail to the address: at worst a copy goes to a key only
    /// Gateway holds, which is unreadable to the user but never plaintext.
    /// </summary>
    private HashSet<string> HeldKeys(string address)
    {
        try
        {
            return held?.CertificatesFor(address).Select(KeyIdentity.Of).ToHashSet(StringComparer.Ordinal) ?? [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            return [];
        }
    }

    /// <summary>
    /// Which certificate the signature tells partners to encrypt replies to. The signer's own when
    /// its key may encrypt. A signing-only key (company PKIs often issue a person two certificates,
    /// one to sign and one to encrypt) names the sender's encryption certificate: among the
    /// sender's own identities first (a key Gateway holds decrypts the replies: Harvest:Decrypt),
    /// then as a recipient's would be found. Naming the signing one would have partners' clients
    /// encrypt to a key that cannot decrypt, or refuse to. Without one, none is named. An identity
    /// named so is not listed as rejected for signing: it is in use.
    /// </summary>
    private async ValueTask<CertificateChoice> WithReplyCertificateAsync(CertificateChoice signer, List<CertificateCandidate> identities, string address, CancellationToken cancellationToken)
    {
        if (SmimeCertificateValidator.KeyMayEncrypt(signer.Selected!.Certificate)) return signer with { ReplyChain = signer.ChainWithoutRoot };
        var own = CertificateSelector.Select(identities, address, CertificateUsage.Encryption, trust);
        var encryption = own.Found ? own : await ResolveAsync(address, CertificateUsage.Encryption, cancellationToken);
        if (!encryption.Found)
            return signer with { ReplyChain = [], ReplyKeyHeld = false, Reason = $"{signer.Reason}; its key only signs and no certificate to encrypt to {address} was found ({encryption.Reason}): the signature names none for replies" };
        var reply = encryption.Selected!;
        return signer with
        {
            ReplyChain = encryption.ChainWithoutRoot,
            // Found as a recipient's certificate: never a key Gateway holds (those are excluded there).
            ReplyKeyHeld = own.Found,
            Reason = $"{signer.Reason}; its key only signs: replies are to be encrypted to {reply.Certificate.Thumbprint} from {reply.Source}",
            Rejected = signer.Rejected.Where(r => !r.StartsWith(reply.Certificate.Thumbprint, StringComparison.Ordinal)).ToList(),
        };
    }

    /// <summary>
    /// The best usable certificate that is not revoked: a revoked one is rejected with the
    /// responder's words and the next best is tried; when its status cannot be learned and the
    /// mode is hard-fail, the next best whose status is known is used, and when there is none the
    /// recipient waits (a temporary failure), never gets plaintext.
    /// </summary>
    private async ValueTask<CertificateChoice> SelectUnrevokedAsync(List<CertificateCandidate> candidates, string address, CertificateUsage usage, CancellationToken cancellationToken)
    {
        var remaining = candidates.ToList();
        var revoked = new List<string>();
        var unknown = new List<string>();
        var unknownIssuers = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var choice = CertificateSelector.Select(remaining, address, usage, trust);
            choice = choice with { Rejected = choice.Rejected.Concat(revoked).ToList() };
            if (!choice.Found)
            {
                // Nothing usable is known to be unrevoked: if a status could not be learned, wait for it.
                if (unknown.Count == 0) return choice;
                var why = string.Join("; ", unknown);
                return new CertificateChoice(null, [], why, choice.Rejected) { TemporaryFailure = why };
            }
            if (revocation is null) return await WithOthersAsync(choice, cancellationToken);
            var selected = choice.Selected!;
            // An issuer whose CRL or OCSP could not be asked just now is not asked again for the next one (a timeout each).
            var verdict = unknownIssuers.Contains(selected.Certificate.Issuer)
                ? new RevocationVerdict(RevocationStatus.Unavailable, $"its issuer's status service did not answer for {unknown.Count} certificate(s) before")
                : await revocation.CheckAsync(selected.Certificate, choice.ChainWithoutRoot, cancellationToken);
            switch (verdict.Status)
            {
                case RevocationStatus.Good:
                    var reason = unknown.Count == 0 ? $"{choice.Reason}; {verdict.Detail}" : $"{choice.Reason}; {verdict.Detail}; passed over: {string.Join("; ", unknown)}";
                    return await WithOthersAsync(choice with { Reason = reason }, cancellationToken);
                case RevocationStatus.Unavailable:
                    // Hard-fail: never used without a known status. An older certificate whose status is known may be.
                    unknown.Add($"revocation status of {selected.Certificate.Thumbprint} unknown: {verdict.Detail}");
                    unknownIssuers.Add(selected.Certificate.Issuer);
                    remaining.Remove(selected);
                    break;
                default:
                    revoked.Add($"{selected.Certificate.Thumbprint} from {selected.Source}: revoked ({verdict.Detail})");
                    remaining.Remove(selected);
                    break;
            }
        }
    }

    /// <summary>
    /// The other certificates a copy is encrypted to, up to the limit, newest first. Each passes
    /// the revocation check (all at once: a CRL endpoint that does not answer costs its timeout
    /// once): one revoked is rejected; one whose status cannot be learned is left out under
    /// hard-fail (the chosen certificate, checked, is enough to send) and used under soft-fail,
    /// as the chosen one would be; the reason says which.
    /// </summary>
    private async ValueTask<CertificateChoice> WithOthersAsync(CertificateChoice choice, CancellationToken cancellationToken)
    {
        var candidates = choice.AlsoUsable.Take(Math.Max(0, maxEncryptionCertificates - 1) * 4).ToList();
        if (candidates.Count == 0) return choice.AlsoUsable.Count == 0 ? choice : choice with { AlsoUsable = [] };
        var verdicts = revocation is null
            ? candidates.Select(_ => RevocationVerdict.Good()).ToArray()
            : await Task.WhenAll(candidates.Select(c => revocation.CheckAsync(c.Candidate.Certificate, c.ChainWithoutRoot, cancellationToken).AsTask()));
        var kept = new List<UsableCertificate>();
        var rejected = choice.Rejected.ToList();
        var notes = new List<string>();
        for (var i = 0; i < candidates.Count && kept.Count < maxEncryptionCertificates - 1; i++)
        {
            var (other, verdict) = (candidates[i], verdicts[i]);
            var certificate = other.Candidate.Certificate;
            if (verdict.Status == RevocationStatus.Revoked)
                rejected.Add($"{certificate.Thumbprint} from {other.Candidate.Source}: revoked ({verdict.Detail})");
            else if (verdict.Status == RevocationStatus.Unavailable)
                notes.Add($"{certificate.Thumbprint} left out: revocation status unknown ({verdict.Detail})");
            else
            {
                // Under soft-fail, as for the chosen certificate; said, so the audit shows it.
                if (verdict.SoftFailed) notes.Add($"{certificate.Thumbprint}: {verdict.Detail}");
                kept.Add(other);
            }
        }
        var reason = kept.Count == 0 ? choice.Reason : $"{choice.Reason}; also encrypted to {kept.Count} other current certificate(s)";
        if (notes.Count > 0) reason = $"{reason}; {string.Join("; ", notes)}";
        return choice with { AlsoUsable = kept, Rejected = rejected, Reason = reason };
    }
}
