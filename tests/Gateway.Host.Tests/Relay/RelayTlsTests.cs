using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Relay;

/// <summary>Relay TLS modes: required means STARTTLS with a verified certificate, or no delivery at all.</summary>
public sealed class RelayTlsTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private async Task<RunningGateway> StartAsync(CapturingSmtpSink sink, string mode, bool trustTestCa)
    {
        _world.RelayTo(sink.Port, mode);
        _world.Settings["Gateway:Spool:FirstRetry"] = "01:00:00";
        if (trustTestCa) _world.Settings["Gateway:Relay:CaCertificatePath"] = _world.CaCertificatePath;
        return await RunningGateway.StartAsync(_world);
    }

    private static Task SendAsync(RunningGateway gateway) =>
        gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "tls"), "alice@example.test", "dave@elsewhere.test");

    [Fact]
    public async Task RequiredTls_WithAVerifiedUpstreamCertificate_Delivers()
    {
        await using var sink = await CapturingSmtpSink.StartAsync(certificate: _world.Pki.IssueTlsServer("127.0.0.1"));
        await using var gateway = await StartAsync(sink, "Required", trustTestCa: true);
        await SendAsync(gateway);
        Assert.Single(await sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task RequiredTls_WithAnUntrustedUpstreamCertificate_DefersAndSendsNothing()
    {
        await using var sink = await CapturingSmtpSink.StartAsync(certificate: _world.Pki.IssueTlsServer("127.0.0.1"));
        await using var gateway = await StartAsync(sink, "Required", trustTestCa: false);
        await SendAsync(gateway);
        var deferred = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred", "dave@elsewhere.test"));
        Assert.StartsWith("451", deferred.GetProperty("reply").GetString());
        Assert.Empty(sink.Messages);
    }

    [Fact]
    public async Task RequiredTls_WhenTheUpstreamOffersNoStartTls_DefersAndSendsNothing()
    {
        await using var sink = await CapturingSmtpSink.StartAsync();
        await using var gateway = await StartAsync(sink, "Required", trustTestCa: true);
        await SendAsync(gateway);
        var deferred = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred", "dave@elsewhere.test"));
        Assert.Contains("STARTTLS", deferred.GetProperty("reply").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(sink.Messages);
    }

    [Fact]
    public async Task OpportunisticTls_UsesTlsWhenOffered_EvenWithAnUnverifiableCertificate()
    {
        await using var sink = await CapturingSmtpSink.StartAsync(certificate: _world.Pki.IssueTlsServer("127.0.0.1"));
        await using var gateway = await StartAsync(sink, "Opportunistic", trustTestCa: false);
        await SendAsync(gateway);
        Assert.Single(await sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
    }
}
