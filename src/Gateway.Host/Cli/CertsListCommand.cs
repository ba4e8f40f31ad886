using System.Text.Json;
using Gateway.Certificates;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway certs list [--expiring DAYS] [--json]</c>: every certificate Gateway knows without
/// asking a directory (the local folder, and the cache: LDAP answers and harvested certificates),
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

        var found = local.All().Select(l => (l.Address, Usage: l.Usage, l.Candidate.Certificate, l.Candidate.Source, Chain: l.Candidate.Intermediates ?? []))
            .Concat(cache.All().Select(c => (c.Address, Usage: CertificateUsage.Encryption, c.Certificate.Certificate, c.Certificate.Source, Chain: c.Certificate.Chain)));
        var entries = found.Select(f =>
            {
                var verdict = SmimeCertificateValidator.Validate(f.Certificate, f.Address, f.Usage, trust.WithIntermediates(f.Chain));
                return new Entry(f.Address, f.Usage == CertificateUsage.Signing ? "signing" : "encryption", f.Source, f.Certificate.Thumbprint,
                    f.Certificate.NotAfter.ToUniversalTime(), verdict.Usable, verdict.Problems);
            })
            .Where(e => expiringDays is null || !e.Usable || e.NotAfter <= now.AddDays(expiringDays.Value))
            .OrderBy(e => e.Address, StringComparer.OrdinalIgnoreCase).ThenBy(e => e.Use, StringComparer.Ordinal).ThenBy(e => e.NotAfter)
            .ToList();

        var unreadable = local.Unreadable;
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(new { certificates = entries, unreadable }, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
            return unreadable.Count == 0 ? 0 : 1;
        }
        foreach (var e in entries)
        {
            var status = e.Usable
                ? (e.NotAfter <= now.AddDays(30) ? $"usable, ends in {(int)Math.Ceiling((e.NotAfter - now).TotalDays)} day(s)" : "usable")
                : string.Join("; ", e.Problems);
            await output.WriteLineAsync($"{e.Address}  {e.Use}  {e.Source}  until {e.NotAfter:yyyy-MM-dd}  {e.Thumbprint}  {status}");
        }
        foreach (var problem in unreadable) await output.WriteLineAsync($"unreadable: {problem}");
        await output.WriteLineAsync($"{entries.Count} certificate(s){(expiringDays is { } d ? $" unusable or ending within {d} day(s)" : "")}");
        return unreadable.Count == 0 ? 0 : 1;
    }
}
