using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Gateway.Ca;
using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary><c>gateway ca issue|revoke|crl|import|export</c>: certificate automation from the command line, with the running gateway's settings.</summary>
public static class CaCommand
{
    public static Command Create(Option<string?> config)
    {
        var target = new Argument<string>("ADDRESS|SERIAL") { Description = "Revoke every certificate of an address, or one serial number" };
        var reason = new Option<X509RevocationReason>("--reason")
        {
            Description = $"RFC 5280 reason: {string.Join(", ", CommandLineValues.Names<X509RevocationReason>())}",
            HelpName = "REASON",
            DefaultValueFactory = _ => X509RevocationReason.Unspecified,
            CustomParser = CommandLineValues.Enum<X509RevocationReason>,
        };
        var revoke = new Command("revoke", "Revoke certificates and publish a new CRL") { target, reason };
        revoke.SetAction((parse, token) => WithCaAsync(parse.GetValue(config), async services =>
        {
            IReadOnlyList<RevocationRecord> revoked;
            try
            {
                revoked = await services.GetRequiredService<ICertificateIssuer>().RevokeAsync(parse.GetValue(target)!, parse.GetValue(reason), token);
            }
            catch (Exception e) when (IsCaFailure(e))
            {
                await Console.Error.WriteLineAsync($"ca revoke: nothing revoked: {e.Message}");
                return 1;
            }
            if (revoked.Count == 0)
            {
                await Console.Error.WriteLineAsync($"nothing to revoke: no unrevoked certificate issued to or with serial '{parse.GetValue(target)}'");
                return 1;
            }
            foreach (var record in revoked) await Console.Out.WriteLineAsync($"revoked {record.Address}: serial {record.Serial} ({record.Reason})");
            await Console.Out.WriteLineAsync($"CRL written to {services.GetRequiredService<BuiltInCertificateAuthority>().CrlFile}");
            return 0;
        }));

        var crl = new Command("crl", "Write the built-in CA's CRL again (next update in 7 days)");
        crl.SetAction((parse, token) => WithCaAsync(parse.GetValue(config), async services =>
        {
            var ca = services.GetRequiredService<BuiltInCertificateAuthority>();
            try
            {
                await ca.PublishCrlAsync(token);
            }
            catch (Exception e) when (IsCaFailure(e))
            {
                await Console.Error.WriteLineAsync($"ca crl: no CRL written: {e.Message}");
                return 1;
            }
            await Console.Out.WriteLineAsync(ca.CrlFile);
            return 0;
        }));

        return new Command("ca", "Certificate automation: the issuer of internal senders' certificates (Gateway:Ca)")
        {
            CaIssueCommand.Create(config), revoke, crl, CaImportCommand.Create(config), CaExportCommand.Create(config),
        };
    }

    /// <summary>Runs <paramref name="action"/> with the gateway's services when the settings are valid and Gateway:Ca is on.</summary>
    public static async Task<int> WithCaAsync(string? configPath, Func<IServiceProvider, Task<int>> action)
    {
        using var host = await ValidatedHost.TryCreateAsync(configPath, Console.Error, tool: true);
        if (host is null) return 1;
        if (!host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.Ca.Enabled)
        {
            await Console.Error.WriteLineAsync("certificate automation is off: set Gateway:Ca:Enabled to true (see README, Certificate automation)");
            return 1;
        }
        return await action(host.Services);
    }

    /// <summary>What a CA that cannot do its work throws (a bad key file, a CA unfit for the task, a full disk): reported as a message, not a stack trace.</summary>
    public static bool IsCaFailure(Exception e) =>
        e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException or InvalidOperationException;

    /// <summary>A password for a file the admin hands over or receives: from a file, never from the command line (the process list shows it).</summary>
    public static async Task<string?> PasswordAsync(string? passwordFile, string what)
    {
        if (string.IsNullOrEmpty(passwordFile))
        {
            await Console.Error.WriteLineAsync($"--password-file is required: the file whose first line is the password of {what}");
            return null;
        }
        if (!File.Exists(passwordFile))
        {
            await Console.Error.WriteLineAsync($"--password-file: file '{passwordFile}' does not exist");
            return null;
        }
        return SecretFile.FirstLine(passwordFile);
    }
}
