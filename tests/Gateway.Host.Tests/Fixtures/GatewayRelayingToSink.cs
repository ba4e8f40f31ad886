using Gateway.Testing.Smtp;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// The usual arrangement of an end-to-end test: a fresh world, a capturing upstream, and the
/// gateway relaying into it. Subclasses change settings in <see cref="Configure"/>.
/// </summary>
public abstract class GatewayRelayingToSink(string? policy = null) : IAsyncLifetime
{
    protected GatewayWorld World { get; } = new(policy);
    protected CapturingSmtpSink Sink { get; private set; } = null!;
    protected RunningGateway Running { get; private set; } = null!;

    protected virtual void Configure(GatewayWorld world)
    {
    }

    public async Task InitializeAsync()
    {
        Sink = await CapturingSmtpSink.StartAsync();
        World.RelayTo(Sink.Port);
        Configure(World);
        Running = await RunningGateway.StartAsync(World);
    }

    /// <summary>Stops the gateway and starts it again on the same world (after a settings change).</summary>
    protected async Task RestartAsync()
    {
        await Running.DisposeAsync();
        Running = await RunningGateway.StartAsync(World);
    }

    public async Task DisposeAsync()
    {
        await Running.DisposeAsync();
        await Sink.DisposeAsync();
        World.Dispose();
    }
}
