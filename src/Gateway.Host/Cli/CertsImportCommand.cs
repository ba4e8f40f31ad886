using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;
using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway certs import FILE...</c>: partners' certificates into the cache as source
/// "harvested". A signed .eml gives its sender's certificate to encrypt to (the signer's own, or the
/// one it names or carries; with chain and SMIMECapabilities) for its From address, only when the
/// signature verifies and the certificates pass every rule;
/// certificate files (.crt .pem .cer .der .p7b .p7c) give each end-entity certificate for each
/// address in its subjectAltName. Whatever is refused is named with every reason; exit 1 then.
/// A certificate of a key Gateway holds for the address (one of its own signed copies, say) is
/// not stored: mail to that address is never encrypted to it, and stored it would only mislead.
/// </summary>
public static class CertsImportCommand
{
    private static readonly string[] CertificateExtensions = [".crt", ".pem", ".cer", ".der", ".p7b", ".p7c"];

    public static async Task<int> ExecuteAsync(string? configPath, IReadOnlyList<string> files, TextWriter output, TextWriter error)
    {
        using var host = await ValidatedHost.TryCreateAsync(configPath, error, tool: true);
        if (host is null) return 1;
        var trust = host.Services.GetRequiredService<LocalCertificateStore>().Trust;
        var cache = host.Services.GetRequiredService<CertificateCache>();
        var held = host.Services.GetRequiredService<HeldIdentities>();
        var failed = false;
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                await error.WriteLineAsync($"{file}: no such file");
                failed = true;
                continue;
            }
            var extension = Path.GetExtension(file).ToLowerInvariant();
            if (extension == ".eml") failed |= !await ImportMessageAsync(file, trust, cache, held, output, error);
            else if (CertificateExtensions.Contains(extension)) failed |= !await ImportCertificatesAsync(file, trust, cache, held, output, error);
            else
            {
                await error.WriteLineAsync($"{file}: unknown kind of file (expected .eml, {string.Join(", ", CertificateExtensions)})");
                failed = true;
            }
        }
        return failed ? 1 : 0;
    }

    private static async Task<bool> ImportMessageAsync(string file, TrustContext trust, CertificateCache cache, HeldIdentities held, TextWriter output, TextWriter error)
    {
        var result = SignatureHarvester.Harvest(await File.ReadAllBytesAsync(file), trust);
        if (!result.Accepted)
        {
            var who = result.Signer is null ? "" : $" certificate {result.Signer.Thumbprint} ({result.Signer.Subject}) of {result.Address}";
            await error.WriteLineAsync($"{file}: refused{who}: {string.Join("; ", result.Problems)}");
            return false;
        }
        var stored = string.Join(", ", result.EncryptionCertificates.Select(c => c.Thumbprint));
        if (result.EncryptionCertificates.Any(c => held.Holds(result.Address!, c)))
        {
            await error.WriteLineAsync($"{file}: not stored certificate {stored} for {result.Address}: {HeldKey(result.Address!)}");
            return false;
        }
        if (cache.RememberHarvest(result) is { } notStored)
        {
            await error.WriteLineAsync($"{file}: not stored certificate {stored} for {result.Address}: {notStored}");
            return false;
        }
        var signedBy = result.EncryptionCertificates.Any(c => c.Thumbprint == result.Signer!.Thumbprint) ? "" : $", signed with {result.Signer!.Thumbprint}";
        await output.WriteLineAsync($"{file}: stored certificate {stored} for {result.Address} (signature verified{signedBy}, " +
            $"{Counted.Of(result.Chain.Count, "intermediate", "intermediates")}, SMIMECapabilities {(result.Capabilities is null ? "absent" : "stored")})");
        return true;
    }

    private static async Task<bool> ImportCertificatesAsync(string file, TrustContext trust, CertificateCache cache, HeldIdentities held, TextWriter output, TextWriter error)
    {
        X509Certificate2Collection collection;
        try
        {
            collection = Load(await File.ReadAllBytesAsync(file));
        }
        catch (CryptographicException e)
        {
            await error.WriteLineAsync($"{file}: not a certificate file: {e.Message}");
            return false;
        }
        var authorities = collection.Where(IsAuthority).ToList();
        var ok = true;
        var endEntities = collection.Where(c => !IsAuthority(c)).ToList();
        if (endEntities.Count == 0)
        {
            await error.WriteLineAsync($"{file}: holds no end-entity certificate (only CA certificates)");
            return false;
        }
        foreach (var certificate in endEntities)
        {
            var addresses = SmimeCertificateValidator.EmailAddresses(certificate);
            if (addresses.Count == 0)
            {
                await error.WriteLineAsync($"{file}: refused certificate {certificate.Thumbprint}: no email address in its subjectAltName");
                ok = false;
            }
            foreach (var address in addresses)
            {
                var verdict = SmimeCertificateValidator.Validate(certificate, address, CertificateUsage.Encryption, trust.WithIntermediates(authorities));
                if (!verdict.Usable)
                {
                    await error.WriteLineAsync($"{file}: refused certificate {certificate.Thumbprint} for {address}: {string.Join("; ", verdict.Problems)}");
                    ok = false;
                    continue;
                }
                if (held.Holds(address, certificate))
                {
                    await error.WriteLineAsync($"{file}: not stored certificate {certificate.Thumbprint} for {address}: {HeldKey(address)}");
                    ok = false;
                    continue;
                }
                cache.RememberFound(address, HarvestedCertificateSource.ImportedName, [certificate], chain: verdict.ChainWithoutRoot.Skip(1).ToList());
                await output.WriteLineAsync($"{file}: stored certificate {certificate.Thumbprint} for {address}");
            }
        }
        return ok;
    }

    private static string HeldKey(string address) =>
        $"its key is one Gateway holds for {address} (its own identity); mail to {address} is never encrypted to it, since {address} reads mail without that key";

    private static X509Certificate2Collection Load(byte[] bytes)
    {
        var collection = new X509Certificate2Collection();
        var text = bytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0 ? System.Text.Encoding.ASCII.GetString(bytes) : null;
        if (text is not null && text.Contains("-----BEGIN PKCS7", StringComparison.Ordinal))
            collection.AddRange(Pkcs7Certificates(Convert.FromBase64String(text[PemEncoding.Find(text).Base64Data])));
        else if (text is not null) collection.ImportFromPem(text);
        else if (LooksLikePkcs7(bytes)) collection.AddRange(Pkcs7Certificates(bytes));
        else collection.Add(X509CertificateLoader.LoadCertificate(bytes));
        return collection;
    }

    private static X509Certificate2Collection Pkcs7Certificates(byte[] der)
    {
        var cms = new SignedCms();
        cms.Decode(der);
        return cms.Certificates;
    }

    /// <summary>DER PKCS#7 starts with a SEQUENCE whose first element is the signedData OID 1.2.840.113549.1.7.2.</summary>
    private static bool LooksLikePkcs7(byte[] bytes) =>
        bytes.AsSpan().IndexOf(new byte[] { 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02 }) is >= 0 and < 8;

    private static bool IsAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
}
