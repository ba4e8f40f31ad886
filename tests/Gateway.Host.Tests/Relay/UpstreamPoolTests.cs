using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Testing;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;
using Xunit.Abstractions;

namespace Gateway.Tests.Relay;

/// <summary>
/// Connections to the upstream are reused, limited to Relay:MaxConnections, checked before reuse
/// after resting, and a dead or busy first upstream hands over to the next in Relay:FallbackHosts.
/// </summary>
public sealed class UpstreamPoolTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Dave = "dave@other.test";       // no identity, recipient without certificate: copies go out plain
    private const string Frank = "frank@elsewhere.test";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly GatewayWorld _world = new();
    private readonly List<IAsyncDisposable> _cleanup = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var item in Enumerable.Reverse(_cleanup)) await item.DisposeAsync();
        _world.Dispose();
    }

    private async Task<RunningGateway> StartAsync()
    {
        var gateway = await RunningGateway.StartAsync(_world);
        _cleanup.Add(gateway);
        return gateway;
    }

    private async Task<CapturingSmtpSink> SinkAsync(TimeSpan? commandTimeout = null)
    {
        var sink = await CapturingSmtpSink.StartAsync(commandTimeout: commandTimeout);
        _cleanup.Add(sink);
        return sink;
    }

    [Fact]
    public async Task ABurst_ReusesConnections_AndNeverOpensMoreThanMaxConnections()
    {
        const int messages = 40;
        var sink = await SinkAsync();
        _world.RelayTo(sink.Port);
        _world.Settings["Gateway:Relay:MaxConnections"] = "2";
        _world.Settings["Gateway:Spool:Workers"] = "8";
        var gateway = await StartAsync();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(c => Task.Run(async () =>
        {
            for (var m = 0; m < messages / 4; m++)
                await gateway.SendAsync(RunningGateway.NewMessage(Dave, Frank, $"pool-{c}-{m}"), Dave, Frank);
        })));
        await sink.WaitForMessagesAsync(messages, Wait);

        output.WriteLine($"{messages} messages relayed over {sink.Sessions} upstream connections; at most {sink.MaxConcurrentSessions} open at once (MaxConnections 2)");
        Assert.InRange(sink.MaxConcurrentSessions, 1, 2);
        Assert.InRange(sink.Sessions, 1, 4);
    }

    [Fact]
    public async Task AConnectionTheUpstreamClosedWhileIdle_IsNotReused_AndTheNextMessageGoesOnANewOne()
    {
        var sink = await SinkAsync(commandTimeout: TimeSpan.FromSeconds(2));
        _world.RelayTo(sink.Port);
        var gateway = await StartAsync();

        await gateway.SendAsync(RunningGateway.NewMessage(Dave, Frank, "before the idle close"), Dave, Frank);
        await sink.WaitForMessagesAsync(1, Wait);
        await Task.Delay(TimeSpan.FromSeconds(5)); // the sink drops the idle connection after 2 s; the pool checks after 3 s idle
        await gateway.SendAsync(RunningGateway.NewMessage(Dave, Frank, "after the idle close"), Dave, Frank);
        await sink.WaitForMessagesAsync(2, Wait);

        Assert.Equal(2, sink.Sessions);
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "deferred"));
    }

    [Fact]
    public async Task FirstUpstreamRefusesConnections_TheFallbackHostGetsTheMessage_WithoutADeferral()
    {
        await using var down = new ReservedPort();
        var sink = await SinkAsync();
        _world.RelayTo(down.Port);
        _world.Settings["Gateway:Relay:FallbackHosts:0"] = $"127.0.0.1:{sink.Port}";
        var log = new CapturedLog();
        var gateway = await RunningGateway.StartAsync(_world, log.AddTo);
        _cleanup.Add(gateway);

        await gateway.SendAsync(RunningGateway.NewMessage(Dave, Frank, "via the fallback"), Dave, Frank);

        var message = Assert.Single(await sink.WaitForMessagesAsync(1, Wait));
        Assert.Equal("via the fallback", message.Parse().Subject);
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Frank), Wait);
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "deferred"));
        Assert.Contains(log.Events(5201), e => e.Message.Contains($"; trying 127.0.0.1:{sink.Port} next; new connections try 127.0.0.1:{down.Port} after the other hosts until ", StringComparison.Ordinal));
    }

    /// <summary>The warning says what happens to the mail, not "the next one if any" when there is none.</summary>
    [Fact]
    public async Task TheOnlyUpstreamRefusingConnections_IsLoggedAsADeferral()
    {
        await using var down = new ReservedPort();
        _world.RelayTo(down.Port);
        var log = new CapturedLog();
        var gateway = await RunningGateway.StartAsync(_world, log.AddTo);
        _cleanup.Add(gateway);

        for (var i = 0; i < 5; i++)
            await gateway.SendAsync(RunningGateway.NewMessage(Dave, Frank, $"nowhere to go {i}"), Dave, Frank);

        await gateway.WaitForAuditAsync(e => gateway.AuditEvents().Count(d => RunningGateway.Is(d, "deferred", Frank)) >= 5, Wait);
        // Once per host per 30 s, not once per copy: an outage under load wrote 36,000 such lines in two minutes.
        var warning = Assert.Single(log.Events(5201));
        Assert.Contains("no other host to try (Relay:FallbackHosts): the copy's recipients are deferred", warning.Message);
    }

    [Fact]
    public async Task FirstUpstreamGreetsWith421_TheFallbackHostGetsTheMessage()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var greeted = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var client = await busy.AcceptTcpClientAsync();
                Interlocked.Increment(ref greeted);
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes("421 4.3.2 busy.example.test too busy, try later\r\n"));
            }
        });
        var sink = await SinkAsync();
        _world.RelayTo(((IPEndPoint)busy.LocalEndpoint).Port);
        _world.Settings["Gateway:Relay:FallbackHosts:0"] = $"127.0.0.1:{sink.Port}";
        var gateway = await StartAsync();

        await gateway.SendAsync(RunningGateway.NewMessage(Dave, Frank, "past the busy one"), Dave, Frank);

        Assert.Single(await sink.WaitForMessagesAsync(1, Wait));
        Assert.True(Volatile.Read(ref greeted) >= 1, "the first upstream was never tried");
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "deferred"));
    }

    [Fact]
    public async Task FirstUpstreamDefersARecipient_WithASoftReply_TheFallbackHostGetsItInTheSameAttempt_TheOthersOnce()
    {
        const string Grace = "grace@elsewhere.test";
        var primary = await SinkAsync();
        var backup = await SinkAsync();
        primary.OnRcpt = address => address == Frank ? new SmtpServer.Protocol.SmtpResponse((SmtpServer.Protocol.SmtpReplyCode)452, "4.3.1 Insufficient system storage") : null;
        _world.RelayTo(primary.Port);
        _world.Settings["Gateway:Relay:FallbackHosts:0"] = $"127.0.0.1:{backup.Port}";
        var gateway = await StartAsync();

        var message = RunningGateway.NewMessage(Dave, Frank, "soft at the first");
        message.To.Add(MimeKit.MailboxAddress.Parse(Grace));
        await gateway.SendAsync(message, Dave, Frank, Grace);

        var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Frank), Wait);
        Assert.Equal($"127.0.0.1:{backup.Port}", delivered.GetProperty("upstream").GetString());
        Assert.Equal([Grace], Assert.Single(primary.Messages).RcptTo); // grace once, at the first host
        Assert.Equal([Frank], Assert.Single(backup.Messages).RcptTo);
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "deferred"));
    }

    /// <summary>A recipient given twice shares one answer: the retry's results keyed by address threw, and the next attempt sent the message again.</summary>
    [Fact]
    public async Task RecipientGivenTwice_DeferredByTheFirstHost_GoesToTheFallbackOnce()
    {
        var primary = await SinkAsync();
        var backup = await SinkAsync();
        primary.OnRcpt = address => address == Frank ? new SmtpServer.Protocol.SmtpResponse((SmtpServer.Protocol.SmtpReplyCode)452, "4.3.1 Insufficient system storage") : null;
        _world.RelayTo(primary.Port);
        _world.Settings["Gateway:Relay:FallbackHosts:0"] = $"127.0.0.1:{backup.Port}";
        var gateway = await StartAsync();

        // Raw SMTP: MailKit would send the address once.
        await using (var client = await Smtp.RawSmtpClient.ConnectAsync(gateway.Port))
        {
            await client.ReadReplyAsync();
            await client.CommandAsync("EHLO client.test");
            Assert.StartsWith("250", await client.CommandAsync($"MAIL FROM:<{Dave}>"));
            Assert.StartsWith("250", await client.CommandAsync($"RCPT TO:<{Frank}>"));
            Assert.StartsWith("250", await client.CommandAsync($"RCPT TO:<{Frank}>"));
            Assert.StartsWith("354", await client.CommandAsync("DATA"));
            Assert.StartsWith("250", await client.CommandAsync("Subject: twice\r\n\r\nhi\r\n."));
        }

        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"), Wait);
        Assert.Equal([Frank], Assert.Single(backup.Messages).RcptTo);
        Assert.Equal(2, gateway.AuditEvents().Count(e => RunningGateway.Is(e, "delivered", Frank)));
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "deferred"));
    }

    [Fact]
    public async Task EveryUpstreamDefers_TheRecipientIsDeferredWithTheLastReply_NotLost()
    {
        var primary = await SinkAsync();
        var backup = await SinkAsync();
        primary.OnRcpt = _ => new SmtpServer.Protocol.SmtpResponse((SmtpServer.Protocol.SmtpReplyCode)452, "4.3.1 primary full");
        backup.OnRcpt = _ => new SmtpServer.Protocol.SmtpResponse((SmtpServer.Protocol.SmtpReplyCode)451, "4.3.0 backup busy");
        _world.RelayTo(primary.Port);
        _world.Settings["Gateway:Relay:FallbackHosts:0"] = $"127.0.0.1:{backup.Port}";
        var gateway = await StartAsync();

        await gateway.SendAsync(RunningGateway.NewMessage(Dave, Frank, "soft everywhere"), Dave, Frank);

        var deferred = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred", Frank), Wait);
        Assert.Contains("backup busy", deferred.GetProperty("reply").GetString());
        Assert.Empty(primary.Messages);
        Assert.Empty(backup.Messages);
    }
}
