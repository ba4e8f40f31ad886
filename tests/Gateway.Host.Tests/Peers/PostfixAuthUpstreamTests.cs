using System.Text;
using Gateway.Testing;
using Gateway.Testing.Peers;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Peers;

/// <summary>
/// SMTP AUTH to a real upstream: Postfix with Cyrus SASL (sasldb) over STARTTLS. Gateway picks
/// SCRAM-SHA-256 from what Postfix offers, proves the password without sending it, checks
/// Postfix's proof in return, and relays; a wrong password is refused by Postfix and the copy
/// waits in the queue instead of being returned.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PostfixAuthUpstreamTests : GatewayRelayingThroughPostfix
{
    private const string SaslDomain = "gateway.test";

    public PostfixAuthUpstreamTests() : base(verifiedTls: true)
    {
        World.Settings["Gateway:Relay:Username"] = "gateway";
        World.Settings["Gateway:Spool:FirstRetry"] = "01:00:00";
    }

    protected override async Task<PostfixInstance> StartPostfixAsync(int sinkPort)
    {
        ToolProcess.Require("saslpasswd2");
        var sasl = Directory.CreateDirectory(Path.Combine(World.Root, "sasl")).FullName;
        File.SetUnixFileMode(World.Root, (UnixFileMode)0b111_101_101); // smtpd runs as postfix and reads below
        File.SetUnixFileMode(sasl, (UnixFileMode)0b111_101_101);
        var database = Path.Combine(sasl, "sasldb2");
        (await ToolProcess.RunAsync("saslpasswd2", ["-f", database, "-c", "-p", "-u", SaslDomain, "gateway"], stdin: Encoding.ASCII.GetBytes("secret"))).EnsureSuccess();
        File.SetUnixFileMode(database, (UnixFileMode)0b110_100_100);

        var postfix = await PostfixInstance.StartAsync(FreePort.Next(), "127.0.0.1", sinkPort, await PostfixTlsServer.SettingsAsync(World));
        // Debian's smtpd reads its Cyrus settings from $config_directory/sasl/smtpd.conf (it does not
        // honour cyrus_sasl_config_path); the reload starts smtpd afresh with them.
        var settings = Directory.CreateDirectory(Path.Combine(postfix.ConfigDirectory, "sasl")).FullName;
        await File.WriteAllTextAsync(Path.Combine(settings, "smtpd.conf"),
            $"pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: {database}\nmech_list: SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN\n");
        await postfix.ReconfigureAsync(["smtpd_sasl_auth_enable = yes", "smtpd_sasl_type = cyrus", "smtpd_sasl_path = smtpd",
            $"smtpd_sasl_local_domain = {SaslDomain}", "smtpd_tls_auth_only = yes"]);
        return postfix;
    }

    [Fact]
    public async Task TheRightPassword_AuthenticatesWithScramSha256_AndTheCopyIsRelayed()
    {
        World.Settings["Gateway:Relay:Password"] = "secret";
        await using (var gateway = await RunningGateway.StartAsync(World))
        {
            await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "scram"), "alice@example.test", "dave@elsewhere.test");
            Assert.Single(await Sink.WaitForMessagesAsync(1, Wait));
        }

        var log = await Postfix.WaitForMaillogAsync(@"disconnect from localhost\[127\.0\.0\.1\] ehlo");
        Assert.Contains($"sasl_method=SCRAM-SHA-256, sasl_username=gateway@{SaslDomain}", log);
        Assert.Contains("auth=1", log);
    }

    [Fact]
    public async Task RelayCheck_ReportsTheVerifiedTlsAndTheMechanism_WithoutSendingMail()
    {
        World.Settings["Gateway:Relay:Password"] = "secret";
        var config = Gateway.Tests.Configuration.SettingsFile.Write(Path.Combine(World.Root, "appsettings.json"), World.Settings);
        var output = new StringWriter();

        var exit = await Gateway.Cli.RelayCheckCommand.ExecuteAsync(config, output, output, default);

        Assert.Equal(0, exit);
        Assert.Matches(@"TLS: TLSv1\.[23] \S+ \(certificate verified against ", output.ToString());
        Assert.Contains("authenticated as gateway with SCRAM-SHA-256", output.ToString());
        Assert.Contains("offers: PIPELINING, CHUNKING", output.ToString());
        // Postfix's own count of the session: authenticated, and not a MAIL sent.
        const string sessionEnd = @"disconnect from localhost\[127\.0\.0\.1\] (ehlo.*)";
        var session = System.Text.RegularExpressions.Regex.Match(await Postfix.WaitForMaillogAsync(sessionEnd), sessionEnd).Groups[1].Value;
        Assert.Contains("auth=1", session);
        Assert.DoesNotContain("mail=", session);
    }

    [Fact]
    public async Task AWrongPassword_IsRefusedByPostfix_AndTheCopyIsDeferred_NotReturned()
    {
        World.Settings["Gateway:Relay:Password"] = "not the secret";
        await using var gateway = await RunningGateway.StartAsync(World);
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "scram-wrong"), "alice@example.test", "dave@elsewhere.test");

        var deferred = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred", "dave@elsewhere.test"));
        Assert.Matches(@"^451 4\.4\.1 .*refused AUTH \S+: 535", deferred.GetProperty("reply").GetString());
        // SCRAM-SHA-256, then PLAIN once: no SCRAM-SHA-1 or LOGIN after them, which would fail alike.
        var log = await Postfix.WaitForMaillogAsync("SASL PLAIN authentication failed");
        Assert.Contains("SASL SCRAM-SHA-256 authentication failed", log);
        Assert.Contains("SASL PLAIN authentication failed", log);
        Assert.DoesNotContain("SASL SCRAM-SHA-1 authentication failed", log);
        Assert.DoesNotContain("SASL LOGIN authentication failed", log);
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "failed"));
    }
}
