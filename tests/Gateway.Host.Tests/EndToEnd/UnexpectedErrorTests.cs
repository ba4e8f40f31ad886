using Gateway.Policy;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.EndToEnd;

/// <summary>Our own failures after the 250 are temporary: the message waits and goes out once the fault is gone.</summary>
public sealed class UnexpectedErrorTests : GatewayRelayingToSink
{
    [Fact]
    public async Task FailureWhileMakingTheCopy_DefersTheMessage_AndItIsDeliveredOnceTheFaultIsGone()
    {
        // The signed+encrypted copy of a message over 1 MiB is written to spool/work; a file in its
        // place makes that fail.
        var work = Path.Combine(World.SpoolPath, "work");
        Directory.Delete(work, recursive: true);
        await File.WriteAllTextAsync(work, "in the way");

        await Running.SendAsync(LargeMessage("after a fault"), "alice@example.test", "bob@partner.test");
        var deferred = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred", "bob@partner.test"));
        Assert.StartsWith("451 4.3.0", deferred.GetProperty("reply").GetString());
        Assert.Empty(Sink.Messages);

        File.Delete(work);
        Directory.CreateDirectory(work);
        var delivered = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Equal(["bob@partner.test"], delivered.RcptTo);
        Assert.Contains("enveloped-data", System.Text.Encoding.ASCII.GetString(delivered.Data));
    }

    [Fact]
    public async Task MessageThatKeepsFailingInsideTheGateway_IsHeldForAnAdmin_AfterMaxProcessingFailures()
    {
        World.Settings["Gateway:Spool:MaxProcessingFailures"] = "2";
        await RestartAsync();
        var work = Path.Combine(World.SpoolPath, "work");
        Directory.Delete(work, recursive: true);
        await File.WriteAllTextAsync(work, "in the way");

        await Running.SendAsync(LargeMessage("cannot process"), "alice@example.test", "bob@partner.test");
        var held = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "held", "bob@partner.test"), TimeSpan.FromSeconds(30));
        Assert.StartsWith("processing failed 2 time(s) in a row", held.GetProperty("reason").GetString());
        Assert.Single(Running.AuditEvents(), e => RunningGateway.Is(e, "deferred", "bob@partner.test"));
        await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"));
        Assert.Single(Directory.GetFiles(Path.Combine(World.SpoolPath, "hold"), "*.eml"));
        Assert.Empty(Sink.Messages);
        File.Delete(work);
    }

    [Fact]
    public async Task SmallMessage_IsSignedAndEncryptedInMemory_WithoutTouchingSpoolWork()
    {
        var work = Path.Combine(World.SpoolPath, "work");
        Directory.Delete(work, recursive: true);
        await File.WriteAllTextAsync(work, "in the way");

        await Running.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "small"), "alice@example.test", "bob@partner.test");
        var delivered = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Contains("enveloped-data", System.Text.Encoding.ASCII.GetString(delivered.Data));
        File.Delete(work);
    }

    [Fact]
    public async Task LargeMessages_LeaveOnlyEmptyWorkFiles_WhichTheNextMessageReuses()
    {
        var work = Path.Combine(World.SpoolPath, "work");
        await Running.SendAsync(LargeMessage("first"), "alice@example.test", "bob@partner.test");
        await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20));
        var first = (await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"))).GetProperty("spoolId").GetString();
        var afterFirst = Directory.GetFiles(work);
        Assert.NotEmpty(afterFirst);
        Assert.All(afterFirst, path => Assert.Equal(0, new FileInfo(path).Length));

        await Running.SendAsync(LargeMessage("second"), "alice@example.test", "bob@partner.test");
        await Sink.WaitForMessagesAsync(2, TimeSpan.FromSeconds(20));
        await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "completed") && e.GetProperty("spoolId").GetString() != first);
        var afterSecond = Directory.GetFiles(work);
        Assert.Equal(afterFirst.Order(), afterSecond.Order());
        Assert.All(afterSecond, path => Assert.Equal(0, new FileInfo(path).Length));
        Assert.Contains("enveloped-data", System.Text.Encoding.ASCII.GetString(Sink.Messages.Last().Data));
    }

    /// <summary>Over the size up to which copies are made in memory, so that the copy needs spool/work.</summary>
    private static MimeKit.MimeMessage LargeMessage(string subject) =>
        RunningGateway.NewMessage("alice@example.test", "bob@partner.test", subject,
            string.Concat(Enumerable.Repeat("a line of text that makes the message larger than one mebibyte\r\n", 20_000)));

    [Fact]
    public async Task EveryRecordOfAProcessedMessage_NamesThePolicyRevisionItWasDecidedWith()
    {
        var revision = Running.Services.GetRequiredService<PolicyProvider>().Current.Revision;
        await Running.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "revision"), "alice@example.test", "bob@partner.test", "dave@elsewhere.test");
        await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"));
        var processed = Running.AuditEvents().Where(e => e.GetProperty("event").GetString() is not ("received" or "connection-refused")).ToList();
        Assert.True(processed.Count >= 5, $"expected decisions, deliveries and completion, got {processed.Count} records");
        Assert.All(processed, e => Assert.Equal(revision, e.GetProperty("policyRevision").GetString()));
    }
}
