using System.CommandLine;
using Gateway.Audit;
using Gateway.Ca;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway ca export ADDRESS --out FILE.p12 --password-file F</c>: every key and certificate
/// issued to ADDRESS (older and revoked ones too) in one PKCS#12, so the user's mail client reads
/// mail encrypted to any of them. Neither key nor password is printed.
/// </summary>
public static class CaExportCommand
{
    public static Command Create(Option<string?> config)
    {
        var address = new Argument<string>("ADDRESS") { Description = "The address whose keys and certificates to export" };
        var output = new Option<string>("--out") { Description = "The PKCS#12 file to write (mode 0600)", Required = true };
        var passwordFile = new Option<string?>("--password-file") { Description = "File whose first line is the password that protects the exported file (AES-256)", Required = true };
        var export = new Command("export",
            "Write every key and certificate issued to ADDRESS (current, renewed and revoked: older mail needs the older keys) and the CA chain to one PKCS#12 file")
        {
            address, output, passwordFile,
        };
        export.SetAction((parse, _) => CaCommand.WithCaAsync(parse.GetValue(config), async services =>
        {
            if (await CaCommand.PasswordAsync(parse.GetValue(passwordFile), "the exported file") is not { } password) return 1;
            if (password.Length == 0)
            {
                await Console.Error.WriteLineAsync("ca export: the password file's first line is empty; the keys are never written unprotected");
                return 1;
            }
            var issuer = services.GetRequiredService<ICertificateIssuer>();
            var who = parse.GetValue(address)!;
            var file = parse.GetValue(output)!;
            // Never over an existing file: --out var/ca/ca.p12 would replace the CA key with a bundle holding none.
            if (File.Exists(file))
            {
                await Console.Error.WriteLineAsync($"ca export: {Path.GetFullPath(file)} exists; nothing written (choose another --out, or move that file away first)");
                return 1;
            }
            IReadOnlyList<IssuedIdentity> exported;
            try
            {
                exported = IdentityExport.Write(issuer, who, file, password);
            }
            catch (Exception e) when (CaCommand.IsCaFailure(e))
            {
                await Console.Error.WriteLineAsync($"ca export: nothing written: {e.Message}");
                return 1;
            }
            if (exported.Count == 0)
            {
                await Console.Error.WriteLineAsync($"ca export: no certificate was ever issued to {who}");
                return 1;
            }
            var revoked = issuer.RevokedSerials();
            await Console.Out.WriteLineAsync($"exported {Counted.Of(exported.Count, "key", "keys")} of {who} to {Path.GetFullPath(file)}:");
            foreach (var identity in exported)
                await Console.Out.WriteLineAsync($"  serial {identity.Serial}, valid until {identity.Certificate.NotAfter.ToUniversalTime():u}{(revoked.Contains(identity.Serial) ? ", revoked" : "")}");
            await services.GetRequiredService<IAuditLog>().WriteAsync(new AuditEvent("keys-exported")
            {
                Recipient = who, Issuer = issuer.Name, Reason = $"{Counted.Of(exported.Count, "key", "keys")} to {Path.GetFullPath(file)}",
                Serial = string.Join(",", exported.Select(i => i.Serial)),
            }, CancellationToken.None);
            return 0;
        }));
        return export;
    }
}
