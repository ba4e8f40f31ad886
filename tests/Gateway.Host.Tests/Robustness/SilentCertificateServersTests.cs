using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Gateway.Testing.Pki;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Robustness;

/// <summary>
/// An LDAP directory and a CRL server that take connections and never answer: the lookups they
/// hold up wait their timeouts, and nothing else does. Each such call blocks a thread; on pool
/// threads, 4 of them on a 2-core machine kept an unrelated client waiting 3.4 s for its 250.
/// </summary>
public sealed class SilentCertificateServersTests
{
    private const int Messages = 4;
    private const int RecipientsEach = 8;

    [Fact]
    public async Task SilentDirectoryAndCrlServer_HoldUpOnlyTheirOwnLookups_NotOtherClientsReplies()
    {
        using var world = new GatewayWorld();
        using var directory = new SilentServer();
        using var crlServer = new SilentServer();
        var crl = $"http://127.0.0.1:{crlServer.Port}/{Guid.NewGuid():N}.crl";
        var recipients = new List<string[]>();
        for (var m = 0; m < Messages; m++)
        {
            var addresses = Enumerable.Range(0, RecipientsEach).Select(r => $"r{m}-{r}@partner.test").ToArray();
            // Half the messages go to recipients with a certificate here, checked against the CRL;
            // the other half to recipients the directory is asked for.
            foreach (var address in m % 2 == 0 ? addresses : [])
            {
                var identity = world.Pki.Issue(address, new CertificateOptions { CrlDistributionUrl = crl });
                File.WriteAllBytes(Path.Combine(world.Certificates, address + ".crt"), identity.PublicCertificate.Export(X509ContentType.Cert));
            }
            recipients.Add(addresses);
        }
        world.Settings["Gateway:Certificates:Ldap:0:Url"] = $"ldap://127.0.0.1:{directory.Port}";
        world.Settings["Gateway:Certificates:Ldap:0:BaseDn"] = "dc=partner,dc=test";
        world.Settings["Gateway:Certificates:Ldap:0:Timeout"] = "00:00:05";
        world.Settings["Gateway:Certificates:Revocation:Timeout"] = "00:00:05";
        await using var gateway = await RunningGateway.StartAsync(world);

        await Task.WhenAll(recipients.Select(to => gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", to[0], "for partners"), "alice@example.test", to)));
        // Wait until both servers hold lookups, so the probes below run while those threads wait.
        var holding = Stopwatch.StartNew();
        while ((directory.Connections == 0 || crlServer.Connections == 0) && holding.Elapsed < TimeSpan.FromSeconds(4)) await Task.Delay(20);
        Assert.True(directory.Connections > 0 && crlServer.Connections > 0, $"the lookups never reached the silent servers (directory {directory.Connections}, CRL {crlServer.Connections})");

        // Another client, a recipient outside partner.test: its 250 must not wait for any of them.
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 8; i++)
        {
            var probe = Stopwatch.StartNew();
            Assert.StartsWith("2.0.0", await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@other.test", $"probe {i}"), "alice@example.test", "dave@other.test"));
            if (probe.Elapsed > slowest) slowest = probe.Elapsed;
            await Task.Delay(150);
        }
        Assert.True(slowest < TimeSpan.FromSeconds(1.5), $"a client's message waited {slowest.TotalMilliseconds:0} ms for lookups of other messages");

        // The silent servers' own recipients still get their decisions, once the waits end.
        foreach (var address in recipients.SelectMany(r => r))
            await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "decision", address) || RunningGateway.Is(e, "deferred", address), TimeSpan.FromSeconds(60));
    }
}
