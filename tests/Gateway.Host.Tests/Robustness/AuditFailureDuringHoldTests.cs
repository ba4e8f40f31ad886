using Gateway.Audit;
using Gateway.Metrics;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Robustness;

/// <summary>
/// The audit log failing while recipients are held for a certificate: every recipient is held in
/// one copy all the same, so none is held (and later released) twice; a copy returned at the end of
/// its lifetime is removed all the same once its report is queued, so the sender gets one report.
/// </summary>
public sealed class AuditFailureDuringHoldTests : IDisposable
{
    private const string Erin = "erin@partner.test";
    private const string Gina = "gina@partner.test";
    private readonly GatewayWorld _world = new("""
        {
          "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
          "rules": [ { "name": "partners", "recipients": ["partner.test"], "encrypt": "required", "missingCertificate": "hold" } ]
        }
        """);

    public void Dispose() => _world.Dispose();

    private Task<RunningGateway> StartFailingFirstAsync(string eventName) =>
        RunningGateway.StartAsync(_world, services =>
            services.AddSingleton<IAuditLog>(sp => new FirstLineFails(sp.GetRequiredService<CountingAuditLog>(), eventName)));

    [Fact]
    public async Task HeldLineThatCannotBeWritten_LeavesEveryRecipientInTheOneHoldCopy_NoneHeldTwice()
    {
        _world.Settings["Gateway:Spool:HeldRecheckInterval"] = "00:00:00";
        await using var gateway = await StartFailingFirstAsync("held");
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", Erin, "held once"), "alice@example.test", Erin, Gina);
        var id = (await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "received"))).GetProperty("spoolId").GetString();

        // The attempt stopped at the failed line; the entry is finished by a later one, which has nobody left to hold.
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed") && e.GetProperty("spoolId").GetString() == id, TimeSpan.FromSeconds(30));
        var copies = Directory.GetFiles(Path.Combine(_world.SpoolPath, "hold"), "*.json");
        var copy = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Assert.Single(copies))).RootElement;
        Assert.Equal([Erin, Gina], copy.GetProperty("recipients").EnumerateArray().Select(r => r.GetProperty("address").GetString()));
    }

    [Fact]
    public async Task ReturnedCopy_WhoseBouncedLineCannotBeWritten_IsRemovedAllTheSame_TheSenderGetsOneReport()
    {
        _world.Settings["Gateway:Spool:HeldRecheckInterval"] = "00:00:00";
        _world.Settings["Gateway:Spool:MaximumLifetime"] = "00:00:03";
        await using var gateway = await StartFailingFirstAsync("bounced");
        var service = gateway.Services.GetRequiredService<Gateway.Pipeline.HeldForCertificateService>();
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", Erin, "returned once"), "alice@example.test", Erin);
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "held", Erin));
        await Task.Delay(TimeSpan.FromSeconds(3.5));

        await service.RecheckAsync(CancellationToken.None, release: false);
        Assert.Empty(Directory.GetFiles(Path.Combine(_world.SpoolPath, "hold"), "*.json"));
        await service.RecheckAsync(CancellationToken.None, release: false); // as the next round would

        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "failed", Erin));
        await Task.Delay(1000); // a second report would be delivered by now
        var reports = gateway.AuditEvents().Where(e => RunningGateway.Is(e, "delivered", "alice@example.test")).ToList();
        Assert.Equal(2, reports.Count); // the notice of the hold, and one failure report
    }
}
