using Gateway.Testing;
using Gateway.Testing.Peers;
using Gateway.Testing.Smtp;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// The arrangement of the tests with a real Postfix as Gateway's upstream: a capturing sink behind
/// a Postfix instance, and a world whose relay goes to Postfix. Subclasses start Postfix with their
/// settings, and say whether the hop is TLS verified against the test CA; each test starts the
/// gateway itself.
/// </summary>
public abstract class GatewayRelayingThroughPostfix(bool verifiedTls) : IAsyncLifetime
{
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    protected GatewayWorld World { get; } = new();
    protected CapturingSmtpSink Sink { get; private set; } = null!;
    protected PostfixInstance Postfix { get; private set; } = null!;

    /// <summary>Starts the Postfix instance that relays into <paramref name="sinkPort"/>.</summary>
    protected abstract Task<PostfixInstance> StartPostfixAsync(int sinkPort);

    public async Task InitializeAsync()
    {
        ToolProcess.Require("postfix");
        Sink = await CapturingSmtpSink.StartAsync();
        Postfix = await StartPostfixAsync(Sink.Port);
        World.RelayTo(Postfix.ListenPort, verifiedTls ? "Required" : "None");
        if (verifiedTls) World.Settings["Gateway:Relay:CaCertificatePath"] = World.CaCertificatePath;
    }

    public async Task DisposeAsync()
    {
        await Postfix.DisposeAsync();
        await Sink.DisposeAsync();
        World.Dispose();
    }
}
