using System.Net.Http;
using System.Security.Cryptography.X509Certificates;
using Gateway.Ca;
using Gateway.Testing;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Ca;

/// <summary>With Ca:CrlHttpPrefix, partners fetch the CA's CRL and certificate from Gateway, and a revocation shows at once.</summary>
public sealed class CrlPublishingTests : GatewayRelayingToSink
{
    private readonly int _httpPort = FreePort.Next();

    protected override void Configure(GatewayWorld world)
    {
        world.Settings["Gateway:Ca:Enabled"] = "true";
        world.Settings["Gateway:Ca:Path"] = Path.Combine(world.Root, "ca");
        world.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";
        world.Settings["Gateway:Ca:Password"] = "ca-password";
        world.Settings["Gateway:Ca:CrlHttpPrefix"] = $"http://127.0.0.1:{_httpPort}/pki/";
    }

    [Fact]
    public async Task CrlAndCaCertificate_AreServed_AndARevocationIsInTheNextCrl()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var baseUrl = $"http://127.0.0.1:{_httpPort}/pki/";
        byte[] crl = [];
        for (var i = 0; i < 50 && crl.Length == 0; i++)
        {
            try { crl = await http.GetByteArrayAsync(baseUrl + "ca.crl"); }
            catch (HttpRequestException) { await Task.Delay(100); }
        }
        Assert.NotEmpty(crl);
        var caCertificate = X509CertificateLoader.LoadCertificate(await http.GetByteArrayAsync(baseUrl + "ca.crt"));
        Assert.Contains("Gateway Internal S/MIME CA", caCertificate.Subject);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync(baseUrl + "ca.p12")).StatusCode);

        var ca = Running.Services.GetRequiredService<BuiltInCertificateAuthority>();
        var issued = await ca.IssueAsync("frank@example.test", "test", default);
        await ca.RevokeAsync("frank@example.test", X509RevocationReason.KeyCompromise, default);
        var after = await http.GetByteArrayAsync(baseUrl + "ca.crl");
        var path = Path.Combine(World.Root, "served.crl");
        await File.WriteAllBytesAsync(path, after);
        var text = await ToolProcess.RunAsync("openssl", ["crl", "-inform", "DER", "-in", path, "-noout", "-text"]);
        Assert.True(text.Succeeded, text.Stderr);
        Assert.Contains($"Serial Number: {issued.Serial}", text.Stdout, StringComparison.OrdinalIgnoreCase);
    }
}
