using Gateway.Cli;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;
using static Gateway.Tests.Fixtures.ScriptedRelay;

namespace Gateway.Tests.Cli;

/// <summary>
/// `gateway relay check` opens a session with each configured upstream as the relay would, says
/// what it offers and what a copy will cost, and sends no mail.
/// </summary>
public sealed class RelayCheckTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private async Task<(int Exit, string Output)> CheckAsync()
    {
        _world.Settings["Gateway:Relay:HeloName"] = "gateway.test"; // what the scripted upstream expects
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings);
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = await RelayCheckCommand.ExecuteAsync(config, output, error, default);
        return (exit, output + error.ToString());
    }

    [Fact]
    public async Task AReachableUpstream_IsDescribed_AndGetsNoMail()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING", "CHUNKING", "SIZE 1000000", "8BITMIME", "DSN");
            await QuitAsync(c);
        });
        _world.RelayTo(upstream.Port);

        var (exit, output) = await CheckAsync();
        await upstream.Finished(Wait);

        Assert.Equal(0, exit);
        Assert.Contains($"upstream 127.0.0.1:{upstream.Port}: ready", output);
        Assert.Contains("offers: PIPELINING, CHUNKING, SIZE 1000000, 8BITMIME, DSN", output);
        Assert.Contains("TLS: none", output);
        Assert.Contains("a copy costs: 1 round trip", output);
        // SIZE 1000000 against the default Smtp:MaxMessageSize of 50 MiB.
        Assert.Contains("warning: it takes at most 1000000 bytes (SIZE), and a signed and encrypted copy of a message of Smtp:MaxMessageSize (52428800) can grow to about 73400320", output);
    }

    [Theory]
    [InlineData(73400320, true)]   // 1.4 x the default 50 MiB: room for detached signatures, not opaque ones
    [InlineData(99614720, false)]  // 1.9 x
    public async Task AnUpstreamSizeLimitWithRoomForEncryptedCopies_GetsNoWarning(long size, bool opaqueNote)
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING", $"SIZE {size}");
            await QuitAsync(c);
        });
        _world.RelayTo(upstream.Port);

        var (exit, output) = await CheckAsync();
        await upstream.Finished(Wait);

        Assert.Equal(0, exit);
        Assert.Contains($"SIZE {size}", output);
        Assert.DoesNotContain("warning", output);
        Assert.Equal(opaqueNote, output.Contains("note: a copy signed opaque (a rule's signatureForm: opaque) and encrypted can grow to about 99614720", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUnreachableHost_IsNamedWithWhy_AndTheFallbackStillChecked()
    {
        await using var down = new ReservedPort();
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c);
            await QuitAsync(c);
        });
        _world.RelayTo(down.Port);
        _world.Settings["Gateway:Relay:FallbackHosts:0"] = $"127.0.0.1:{upstream.Port}";

        var (exit, output) = await CheckAsync();
        await upstream.Finished(Wait);

        Assert.Equal(0, exit);
        Assert.Contains($"upstream 127.0.0.1:{down.Port}: failed: ", output);
        Assert.Contains($"upstream 127.0.0.1:{upstream.Port}: ready", output);
        Assert.Contains("a copy costs: 3 + 1 per recipient round trips", output);
    }

    [Fact]
    public async Task NoUpstreamThatAnswers_ExitsWith1()
    {
        await using var down = new ReservedPort();
        _world.RelayTo(down.Port);

        var (exit, output) = await CheckAsync();

        Assert.Equal(1, exit);
        Assert.Contains($"upstream 127.0.0.1:{down.Port}: failed: ", output);
    }
}
