using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Gateway.Ca;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Cli;

/// <summary><c>gateway ca issue|revoke|crl</c>: the built-in CA from the command line, with the running gateway's settings.</summary>
public static class CaCommand
{
    public static Command Create(Option<string?> config)
    {
        var address = new Argument<string>("ADDRESS") { Description = "Sender address to issue a certificate for" };
        var issue = new Command("issue", "Issue a signing certificate for ADDRESS now (before its first mail)") { address, config };
        issue.SetAction((parse, token) => WithCaAsync(parse.GetValue(config), async ca =>
        {
            var identity = await ca.IssueAsync(parse.GetValue(address)!, "issued from the command line", token);
            await Console.Out.WriteLineAsync($"issued {identity.Address}: serial {identity.Serial}, thumbprint {identity.Certificate.Thumbprint}, valid until {identity.Certificate.NotAfter.ToUniversalTime():u}");
            return 0;
        }));

        var target = new Argument<string>("ADDRESS|SERIAL") { Description = "Revoke every certificate of an address, or one serial number" };
        var reason = new Option<X509RevocationReason>("--reason") { Description = "RFC 5280 reason", DefaultValueFactory = _ => X509RevocationReason.Unspecified };
        var revoke = new Command("revoke", "Revoke certificates and publish a new CRL") { target, reason, config };
        revoke.SetAction((parse, token) => WithCaAsync(parse.GetValue(config), async ca =>
        {
            var revoked = await ca.RevokeAsync(parse.GetValue(target)!, parse.GetValue(reason), token);
            if (revoked.Count == 0)
            {
                await Console.Error.WriteLineAsync($"nothing to revoke: no unrevoked certificate issued to or with serial '{parse.GetValue(target)}'");
                return 1;
            }
            foreach (var record in revoked) await Console.Out.WriteLineAsync($"revoked {record.Address}: serial {record.Serial} ({record.Reason})");
            await Console.Out.WriteLineAsync($"CRL written to {ca.CrlFile}");
            return 0;
        }));

        var crl = new Command("crl", "Write the CRL again (next update in 7 days)") { config };
        crl.SetAction((parse, _) => WithCaAsync(parse.GetValue(config), async ca =>
        {
            ca.PublishCrl();
            await Console.Out.WriteLineAsync(ca.CrlFile);
            return 0;
        }));

        return new Command("ca", "The built-in certificate authority (Gateway:Ca)") { issue, revoke, crl };
    }

    private static async Task<int> WithCaAsync(string? configPath, Func<BuiltInCertificateAuthority, Task<int>> action)
    {
        using var host = await ValidatedHost.TryCreateAsync(configPath, Console.Error);
        if (host is null) return 1;
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Configuration.GatewayOptions>>().Value;
        if (!options.Ca.Enabled)
        {
            await Console.Error.WriteLineAsync("the built-in CA is off: set Gateway:Ca:Enabled to true (see README, Certificate automation)");
            return 1;
        }
        return await action(host.Services.GetRequiredService<BuiltInCertificateAuthority>());
    }
}
