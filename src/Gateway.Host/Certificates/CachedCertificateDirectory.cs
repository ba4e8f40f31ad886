using System.Collections.Concurrent;
using Gateway.Mail;

namespace Gateway.Certificates;

/// <summary>
/// Remembers each lookup's validated choice for a minute (never past the chosen certificate's
/// expiry), so a burst of mail to the same partner builds the certificate chain once, not per
/// message. Chain building costs about as much as the RSA signature itself.
/// </summary>
public sealed class CachedCertificateDirectory(ICertificateDirectory inner, TimeProvider time) : ICertificateDirectory
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<(bool Signer, string Address), (CertificateChoice Choice, DateTimeOffset Until)> _choices = new();

    /// <summary>Every this many choices kept, the expired ones are dropped: the addresses asked for are the world's, and a cache that only grows is a leak.</summary>
    private const int SweepEvery = 1024;

    private long _generation;
    private int _stored;

    /// <summary>Choices held, expired ones not yet swept included.</summary>
    internal int Count => _choices.Count;

    /// <summary>Forgets every choice: the certificates they were made from changed.</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _choices.Clear();
    }

    public ValueTask<CertificateChoice> FindSignerAsync(string address, CancellationToken cancellationToken) =>
        GetAsync(true, address, inner.FindSignerAsync, cancellationToken);

    public ValueTask<CertificateChoice> FindRecipientAsync(string address, CancellationToken cancellationToken) =>
        GetAsync(false, address, inner.FindRecipientAsync, cancellationToken);

    private async ValueTask<CertificateChoice> GetAsync(bool signer, string address, Func<string, CancellationToken, ValueTask<CertificateChoice>> find, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // Under the key every source looks up by: the validator binds a certificate to its address
        // the same way (SameMailboxAs), so Bob@ and bob@ have one answer.
        var key = (signer, MailAddress.LookupKey(address));
        if (_choices.TryGetValue(key, out var cached) && cached.Until > now) return cached.Choice;
        var generation = Interlocked.Read(ref _generation);
        var choice = await find(address, cancellationToken);
        // A source that could not answer is asked again at the next attempt, not a minute later.
        if (choice.Unavailable) return choice;
        var until = now + Lifetime;
        // Not past the first expiry among the certificates a copy would be encrypted to (or signed with, or name for replies).
        foreach (var certificate in choice.ForEncryption.Concat(choice.ReplyChain?.Take(1) ?? []))
            if (certificate.NotAfter.ToUniversalTime() < until.UtcDateTime) until = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        // A lookup that began before a Clear() may have read the certificates as they were: not kept.
        if (Interlocked.Read(ref _generation) != generation) return choice;
        _choices[key] = (choice, until);
        if (Interlocked.Increment(ref _stored) % SweepEvery == 0)
            foreach (var (stale, kept) in _choices)
                if (kept.Until <= now) _choices.TryRemove(new KeyValuePair<(bool, string), (CertificateChoice, DateTimeOffset)>(stale, kept));
        if (Interlocked.Read(ref _generation) != generation) _choices.TryRemove(key, out _); // a Clear() in between
        return choice;
    }
}
