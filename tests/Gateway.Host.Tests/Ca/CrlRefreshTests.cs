using Gateway.Audit;
using Gateway.Ca;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.Ca;

/// <summary>
/// The CRL's next update is 7 days after it was signed: the running gateway signs it again at
/// start and every day, without Ca:CrlHttpPrefix, and a CRL it cannot sign does not stop it.
/// </summary>
public sealed class CrlRefreshTests : IDisposable
{
    private readonly CaFixture _ca = new();

    public CrlRefreshTests() => _ca.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";

    public void Dispose() => _ca.Dispose();

    private string CrlFile => Path.Combine(_ca.CaPath, "ca.crl");

    private BackgroundService Service() =>
        ActivatorUtilities.CreateInstance<CrlPublisherService>(new ServiceCollection()
            .AddSingleton(_ca.Options())
            .AddSingleton<TimeProvider>(_ca.Time)
            .AddSingleton<IAuditLog>(_ca.Audit)
            .AddSingleton<BuiltInCertificateAuthority>()
            .AddLogging()
            .BuildServiceProvider());

    /// <summary>The number and thisUpdate of ca.crl once it has a number above <paramref name="above"/>.</summary>
    private async Task<(long Number, DateTime LastUpdate)> CrlAfterAsync(long above)
    {
        for (var i = 0; i < 100; i++)
        {
            if (File.Exists(CrlFile))
            {
                var text = await RevocationListTests.CrlTextAsync(CrlFile);
                if (RevocationListTests.CrlNumber(text) > above) return (RevocationListTests.CrlNumber(text), RevocationListTests.LastUpdate(text));
            }
            await Task.Delay(100);
        }
        Assert.Fail($"no CRL with a number above {above} in {CrlFile} within 10 s");
        return default;
    }

    [Fact]
    public async Task WithoutAnHttpPrefix_TheServicePublishesAtStart_AndSignsAgainADayLater_WithALaterThisUpdateAndALargerNumber()
    {
        await _ca.Authority().IssueAsync("frank@example.test", "test", CancellationToken.None); // the CA exists, as after a first enrolment
        using var service = Service();
        await service.StartAsync(CancellationToken.None);
        try
        {
            var atStart = await CrlAfterAsync(0);

            _ca.Time.Advance(TimeSpan.FromDays(1));
            var nextDay = await CrlAfterAsync(atStart.Number);

            Assert.True(nextDay.LastUpdate >= atStart.LastUpdate.AddHours(23), $"{atStart.LastUpdate:u} then {nextDay.LastUpdate:u}");
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task ACrlThatCannotBeSigned_IsLogged_AndTheServiceKeepsRunning()
    {
        Directory.CreateDirectory(_ca.CaPath);
        await File.WriteAllTextAsync(Path.Combine(_ca.CaPath, "ca.p12"), "not a PKCS#12 file");
        using var service = Service();

        await service.StartAsync(CancellationToken.None);
        await Task.Delay(500);
        _ca.Time.Advance(TimeSpan.FromDays(1));
        await Task.Delay(500);

        Assert.False(service.ExecuteTask!.IsFaulted, service.ExecuteTask.Exception?.ToString());
        await service.StopAsync(CancellationToken.None);
        Assert.False(File.Exists(CrlFile));
    }
}
