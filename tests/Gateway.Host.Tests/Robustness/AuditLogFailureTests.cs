using Gateway.Spool;
using Gateway.Tests.Fixtures;
using Gateway.Tests.Smtp;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Robustness;

/// <summary>
/// An audit log that cannot be written (here /dev/full: every write fails with ENOSPC): no message
/// is accepted without its line, none is kept after a 4xx (the client sends it again), and a
/// refusal keeps its own reply instead of becoming SmtpServer's 554 for an exception.
/// </summary>
public sealed class AuditLogFailureTests : IDisposable
{
    private const string Full = "/dev/full";
    private readonly GatewayWorld _world = new();

    public AuditLogFailureTests()
    {
        Assert.True(File.Exists(Full), $"{Full} is missing: these tests need a device whose every write fails with ENOSPC");
        _world.Settings["Gateway:Audit:Path"] = Full;
    }

    public void Dispose() => _world.Dispose();

    [Theory]
    [InlineData("true")]  // accepted into the journal
    [InlineData("false")] // accepted into its own files
    public async Task MessageWhoseReceivedLineCannotBeWritten_Gets451_AndIsNeitherKeptNorDelivered(string journal)
    {
        _world.Settings["Gateway:Spool:Journal"] = journal;
        await using (var gateway = await RunningGateway.StartAsync(_world))
        {
            await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
            await client.StartDataAsync();
            await client.SendAsync("Subject: no audit, no mail\r\n\r\nbody\r\n.\r\n");
            Assert.StartsWith("451 4.3.0 ", await client.ReadReplyAsync());
            Assert.StartsWith("250", await client.CommandAsync("NOOP")); // the session goes on
            Assert.Equal(0, gateway.Services.GetRequiredService<AcceptJournal>().Count);
            await Task.Delay(500); // a worker that had been handed it would have written it out by now
        }
        // The clean stop moves whatever still waits in the journal to incoming/: nothing may.
        Assert.Empty(SpooledMessages.All(_world.SpoolPath));
        Assert.False(Directory.Exists(_world.OutboxPath) && Directory.EnumerateFiles(_world.OutboxPath).Any(), "a message refused with 451 was delivered");
    }

    [Fact]
    public async Task MessageOverTheSizeLimit_StillGets552_WhenItsRefusalCannotBeAudited()
    {
        _world.Settings["Gateway:Smtp:MaxMessageSize"] = "20000";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        await client.SendAsync(string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", 21)) + ".\r\n");
        Assert.StartsWith("552 5.3.4", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task SenderOutsideTheSenderDomains_StillGets553_WhenItsRefusalCannotBeAudited()
    {
        _world.Settings["Gateway:Smtp:SenderDomains:0"] = "example.test";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        Assert.StartsWith("220", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.example.test"));
        Assert.StartsWith("553 5.7.1", await client.CommandAsync("MAIL FROM:<mallory@elsewhere.test>"));
        Assert.StartsWith("250", await client.CommandAsync("NOOP"));
    }
}
