using Gateway.Smime;
using Microsoft.Data.Sqlite;

namespace Gateway.Certificates;

/// <summary>
/// Gives each certificate a recipient's copy is encrypted to the SMIMECapabilities its owner's
/// signed mail came with, wherever the certificate is found now: a partner whose certificate is
/// in the folder or a directory, and who has written to us signed, is known to read AES-GCM all
/// the same (<see cref="Pipeline.ContentEncryptionChoice"/>). Only what a signed message said
/// counts; a certificate that never came with one keeps none. The capabilities only choose
/// between AES-GCM and AES-CBC: a cache that cannot be read leaves them unknown (CBC, which every
/// client reads) and never holds up the mail.
/// </summary>
public sealed class AdvertisedCapabilitiesDirectory(ICertificateDirectory inner, CertificateCache cache) : ICertificateDirectory
{
    public ValueTask<CertificateChoice> FindSignerAsync(string address, CancellationToken cancellationToken) => inner.FindSignerAsync(address, cancellationToken);

    public async ValueTask<CertificateChoice> FindRecipientAsync(string address, CancellationToken cancellationToken)
    {
        var choice = await inner.FindRecipientAsync(address, cancellationToken);
        if (choice.Selected is not { } selected) return choice;
        return choice with
        {
            Selected = WithCapabilities(selected, address),
            AlsoUsable = choice.AlsoUsable.Select(u => u with { Candidate = WithCapabilities(u.Candidate, address) }).ToList(),
        };
    }

    private CertificateCandidate WithCapabilities(CertificateCandidate candidate, string address) =>
        candidate.Capabilities is not null || Harvested(address, candidate.Certificate.Thumbprint) is not { } der
            ? candidate
            : candidate with { Capabilities = SmimeCapabilities.Parse(der) };

    private byte[]? Harvested(string address, string thumbprint)
    {
        try
        {
            return cache.CapabilitiesOf(address, thumbprint);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
