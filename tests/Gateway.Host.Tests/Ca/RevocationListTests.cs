using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Gateway.Testing;

namespace Gateway.Tests.Ca;

/// <summary>The CA's CRL as openssl reads it: RFC 5280 CRL numbers and reason codes.</summary>
public sealed partial class RevocationListTests : IDisposable
{
    private readonly CaFixture _ca = new();

    public RevocationListTests() => _ca.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";

    public void Dispose() => _ca.Dispose();

    private string CrlFile => Path.Combine(_ca.CaPath, "ca.crl");

    /// <summary>openssl crl -text of ca.crl.</summary>
    public static async Task<string> CrlTextAsync(string crlFile)
    {
        var text = await ToolProcess.RunAsync("openssl", ["crl", "-inform", "DER", "-in", crlFile, "-noout", "-text"]);
        Assert.True(text.Succeeded, text.Stderr);
        return text.Stdout;
    }

    public static long CrlNumber(string crlText) =>
        long.Parse(CrlNumberPattern().Match(crlText).Groups[1].Value, CultureInfo.InvariantCulture);

    public static DateTime LastUpdate(string crlText) =>
        DateTime.ParseExact(Regex.Replace(LastUpdatePattern().Match(crlText).Groups[1].Value.Trim(), @"\s+", " "), "MMM d HH:mm:ss yyyy 'GMT'",
            CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    [GeneratedRegex(@"X509v3 CRL Number:\s*\n\s*(\d+)")]
    private static partial Regex CrlNumberPattern();

    [GeneratedRegex(@"Last Update: ([^\n]+)")]
    private static partial Regex LastUpdatePattern();

    [Fact]
    public async Task RepublishingWithoutARevocation_GivesAStrictlyLargerCrlNumber_AlsoFromAnotherProcess()
    {
        var numbers = new List<long>();
        foreach (var authority in new[] { _ca.Authority(), _ca.Authority(), _ca.Authority() })
        {
            await authority.PublishCrlAsync(CancellationToken.None);
            numbers.Add(CrlNumber(await CrlTextAsync(CrlFile)));
        }
        var revoking = _ca.Authority();
        await revoking.IssueAsync("frank@example.test", "test", CancellationToken.None);
        await revoking.RevokeAsync("frank@example.test", X509RevocationReason.Superseded, CancellationToken.None);
        numbers.Add(CrlNumber(await CrlTextAsync(CrlFile)));
        await _ca.Authority().PublishCrlAsync(CancellationToken.None);
        numbers.Add(CrlNumber(await CrlTextAsync(CrlFile)));

        Assert.Equal(numbers.Order(), numbers);
        Assert.Equal(numbers.Count, numbers.Distinct().Count());
    }

    [Fact]
    public async Task AnUnspecifiedReason_IsLeftOut_OtherReasonsAreWritten()
    {
        var authority = _ca.Authority();
        var frank = await authority.IssueAsync("frank@example.test", "test", CancellationToken.None);
        var grace = await authority.IssueAsync("grace@example.test", "test", CancellationToken.None);

        await authority.RevokeAsync("frank@example.test", X509RevocationReason.Unspecified, CancellationToken.None);
        var unspecified = await CrlTextAsync(CrlFile);
        await authority.RevokeAsync("grace@example.test", X509RevocationReason.KeyCompromise, CancellationToken.None);
        var both = await CrlTextAsync(CrlFile);

        Assert.Contains($"Serial Number: {frank.Serial}", unspecified, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("CRL Reason Code", unspecified);
        Assert.Contains($"Serial Number: {grace.Serial}", both, StringComparison.OrdinalIgnoreCase);
        Assert.Single(Regex.Matches(both, "X509v3 CRL Reason Code"));
        Assert.Contains("Key Compromise", both);
    }
}
