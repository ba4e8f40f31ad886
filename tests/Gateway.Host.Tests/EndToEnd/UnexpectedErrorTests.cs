using Gateway.Policy;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.EndToEnd;

/// <summary>Our own failures after the 250 are temporary: the message waits and goes out once the fault is gone.</summary>
public sealed class UnexpectedErrorTests : IAsyncLifetime
{
    private readonly GatewayWorld _world = new();
    private CapturingSmtpSink _sink = null!;
    private RunningGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _sink = await CapturingSmtpSink.StartAsync();
        _world.RelayTo(_sink.Port);
        _gateway = await RunningGateway.StartAsync(_world);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _sink.DisposeAsync();
        _world.Dispose();
    }

    [Fact]
    public async Task FailureWhileMakingTheCopy_DefersTheMessage_AndItIsDeliveredOnceTheFaultIsGone()
    {
        // The signed+encrypted copy is written to spool/work; a file in its place makes that fail.
        var work = Path.Combine(_world.SpoolPath, "work");
        Directory.Delete(work, recursive: true);
        await File.WriteAllTextAsync(work, "in the way");

        await _gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "after a fault"), "alice@example.test", "bob@partner.test");
        var deferred = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred", "bob@partner.test"));
        Assert.StartsWith("451 4.3.0", deferred.GetProperty("reply").GetString());
        Assert.Empty(_sink.Messages);

        File.Delete(work);
        Directory.CreateDirectory(work);
        var delivered = Assert.Single(await _sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Equal(["bob@partner.test"], delivered.RcptTo);
        Assert.Contains("enveloped-data", System.Text.Encoding.ASCII.GetString(delivered.Data));
    }

    [Fact]
    public async Task MessageThatKeepsFailingInsideTheGateway_IsHeldForAnAdmin_AfterMaxProcessingFailures()
    {
        await _gateway.DisposeAsync();
        _world.Settings["Gateway:Spool:MaxProcessingFailures"] = "2";
        _gateway = await RunningGateway.StartAsync(_world);
        var work = Path.Combine(_world.SpoolPath, "work");
        Directory.Delete(work, recursive: true);
        await File.WriteAllTextAsync(work, "in the way");

        await _gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "cannot process"), "alice@example.test", "bob@partner.test");
        var held = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "held", "bob@partner.test"), TimeSpan.FromSeconds(30));
        Assert.StartsWith("processing failed 2 time(s) in a row", held.GetProperty("reason").GetString());
        Assert.Single(_gateway.AuditEvents(), e => RunningGateway.Is(e, "deferred", "bob@partner.test"));
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"));
        Assert.Single(Directory.GetFiles(Path.Combine(_world.SpoolPath, "hold"), "*.eml"));
        Assert.Empty(_sink.Messages);
        File.Delete(work);
    }

    [Fact]
    public async Task EveryRecordOfAProcessedMessage_NamesThePolicyRevisionItWasDecidedWith()
    {
        var revision = _gateway.Services.GetRequiredService<PolicyProvider>().Current.Revision;
        await _gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "revision"), "alice@example.test", "bob@partner.test", "dave@elsewhere.test");
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"));
        var processed = _gateway.AuditEvents().Where(e => e.GetProperty("event").GetString() is not ("received" or "connection-refused")).ToList();
        Assert.True(processed.Count >= 5, $"expected decisions, deliveries and completion, got {processed.Count} records");
        Assert.All(processed, e => Assert.Equal(revision, e.GetProperty("policyRevision").GetString()));
    }
}
