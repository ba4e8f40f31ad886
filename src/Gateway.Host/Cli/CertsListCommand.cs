using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gateway.Ca;
using Gateway.Certificates;
using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway certs list [--expiring DAYS] [--json]</c>: every certificate Gateway knows without
/// asking a directory (the local folder, the built-in CA's issued identities but the revoked, and
/// the cache: LDAP answers and harvested certificates),
/// one line each with its address, use, source, end of validity and whether it is usable now by
/// the same rules as every lookup (revocation aside: `certs lookup` asks for that). With
/// --expiring, only those unusable already or ending within DAYS days: the renewals to chase.
/// Files of the folder that cannot be read are named too, and make the exit code 1 (as they stop
/// `gateway run`).
/// </summary>
public static class CertsListCommand
{
    public sealed record Entry(string Address, string Use, string Source, string Thumbprint, DateTime NotAfter, bool Usable, IReadOnlyList<string> Problems);

    public static async Task<int> ExecuteAsync(string? configPath, int? expiringDays, bool json, TextWriter output, TextWriter error)
    {
        using var host = await ValidatedHost.TryCreateAsync(configPath, error, tool: true);
        if (host is null) return 1;
        var local = host.Services.GetRequiredService<LocalCertificateStore>();
        var cache = host.Services.GetRequiredService<CertificateCache>();
        var trust = local.Trust;
        var now = trust.Time.GetUtcNow().UtcDateTime;

        var found = local.All().Select(l => new Held(l.Address, l.Usage, l.Candidate.Certificate, l.Candidate.Source, trust.WithIntermediates(l.Candidate.Intermediates ?? [])))
            .Concat(IssuedByTheBuiltInCa(host.Services, trust.Time, out var withoutCertificateFile, out var caProblem))
            .Concat(cache.All().Select(c => new Held(c.Address, CertificateUsage.Encryption, c.Certificate.Certificate, c.Certificate.Source, trust.WithIntermediates(c.Certificate.Chain))));
        var entries = found.Select(f =>
            {
                var verdict = SmimeCertificateValidator.Validate(f.Certificate, f.Address, f.Usage, f.Trust);
                return new Entry(f.Address, f.Usage == CertificateUsage.Signing ? "signing" : "encryption", f.Source, f.Certificate.Thumbprint,
                    f.Certificate.NotAfter.ToUniversalTime(), verdict.Usable, verdict.Problems);
            })
            .Where(e => expiringDays is null || !e.Usable || e.NotAfter <= now.AddDays(expiringDays.Value))
            .OrderBy(e => e.Address, StringComparer.OrdinalIgnoreCase).ThenBy(e => e.Use, StringComparer.Ordinal).ThenBy(e => e.NotAfter)
            .ToList();

        var unreadable = caProblem is null ? local.Unreadable : [.. local.Unreadable, caProblem];
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(new { certificates = entries, unreadable, unlistedIssuedIdentities = withoutCertificateFile },
                new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
            return unreadable.Count == 0 ? 0 : 1;
        }
        foreach (var e in entries)
        {
            var status = e.Usable
                ? (e.NotAfter <= now.AddDays(30) ? $"usable, ends in {Counted.Of((int)Math.Ceiling((e.NotAfter - now).TotalDays), "day", "days")}" : "usable")
                : string.Join("; ", e.Problems);
            await output.WriteLineAsync($"{e.Address}  {e.Use}  {e.Source}  until {e.NotAfter:yyyy-MM-dd}  {e.Thumbprint}  {status}");
        }
        foreach (var problem in unreadable) await output.WriteLineAsync($"unreadable: {problem}");
        if (withoutCertificateFile > 0)
            await output.WriteLineAsync($"{Counted.Of(withoutCertificateFile, "identity", "identities")} issued by an older version: listed once the gateway has used them (their certificate is then kept beside the key)");
        await output.WriteLineAsync($"{Counted.Of(entries.Count, "certificate", "certificates")}{(expiringDays is { } d ? $" unusable or ending within {Counted.Of(d, "day", "days")}" : "")}");
        return unreadable.Count == 0 ? 0 : 1;
    }

    private sealed record Held(string Address, CertificateUsage Usage, X509Certificate2 Certificate, string Source, TrustContext Trust);

    /// <summary>
    /// The built-in CA's unrevoked identities (signing), judged against its own chain as enrolment
    /// judges them; none when it is not the issuer. Reading the chain decrypts the CA's own file:
    /// a CA that cannot be read is named as unreadable, not the end of the listing.
    /// </summary>
    private static IEnumerable<Held> IssuedByTheBuiltInCa(IServiceProvider services, TimeProvider time, out int withoutCertificateFile, out string? problem)
    {
        withoutCertificateFile = 0;
        problem = null;
        var ca = services.GetRequiredService<IOptions<GatewayOptions>>().Value.Ca;
        if (!ca.Enabled || ca.Issuer != BuiltInCertificateAuthority.IssuerName) return [];
        var authority = services.GetRequiredService<BuiltInCertificateAuthority>();
        try
        {
            if (!authority.Exists) return [];
            var chain = authority.Chain;
            var trust = new TrustContext([chain[^1]], [.. chain.Take(chain.Count - 1)], time);
            var revoked = authority.RevokedSerials();
            var issued = authority.IssuedCertificates(out var unlisted);
            withoutCertificateFile = unlisted.Count(serial => !revoked.Contains(serial));
            return issued
                .Where(i => !revoked.Contains(i.Certificate.SerialNumber))
                .Select(i => new Held(i.Address, CertificateUsage.Signing, i.Certificate, $"ca:{i.Certificate.SerialNumber}", trust))
                .ToList();
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            problem = $"built-in CA at {ca.Path}: {e.Message}";
            return [];
        }
    }
}
