using System.CommandLine;
using Gateway.Audit;
using Gateway.Ca;
using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway ca import --pkcs12 FILE --password-file F</c> or <c>--certificate CERT.pem --key KEY.pem [--password-file F]</c>:
/// an existing company CA or subordinate CA becomes the built-in CA, instead of one Gateway creates.
/// </summary>
public static class CaImportCommand
{
    public static Command Create(Option<string?> config)
    {
        var pkcs12 = new Option<string?>("--pkcs12") { Description = "PKCS#12 file with the CA certificate, its private key and (recommended) the chain up to the root" };
        var certificate = new Option<string?>("--certificate") { Description = "Instead of --pkcs12: PEM file with the CA certificate first, then the chain up to the root" };
        var key = new Option<string?>("--key") { Description = "With --certificate: PEM file with the CA's private key (PKCS#8, encrypted or not)" };
        var passwordFile = new Option<string?>("--password-file") { Description = "File whose first line is the password of the PKCS#12 file or of the encrypted PEM key" };
        var import = new Command("import",
            "Use an existing company CA or subordinate CA as the built-in CA: checks it and writes Ca:Path/ca.p12 encrypted with Ca:Password " +
            "(plus ca.crt and ca-chain.pem). Run before the first certificate is issued; an existing ca.p12 is never replaced")
        {
            pkcs12, certificate, key, passwordFile,
        };
        import.SetAction((parse, _) => CaCommand.WithCaAsync(parse.GetValue(config), async services =>
        {
            var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value.Ca;
            var importer = new CompanyCaImport(options, services.GetRequiredService<TimeProvider>());
            CompanyCaImport.Result result;
            if (parse.GetValue(pkcs12) is { } file && parse.GetValue(certificate) is null && parse.GetValue(key) is null)
            {
                if (await CaCommand.PasswordAsync(parse.GetValue(passwordFile), "the PKCS#12 file") is not { } password) return 1;
                result = importer.FromPkcs12(file, password);
            }
            else if (parse.GetValue(pkcs12) is null && parse.GetValue(certificate) is { } pem && parse.GetValue(key) is { } keyFile)
            {
                string? password = null;
                // A password file that was given but cannot be read must not mean "the key is not encrypted".
                if (parse.GetValue(passwordFile) is { } given && (password = await CaCommand.PasswordAsync(given, "the PEM key")) is null) return 1;
                result = importer.FromPem(pem, keyFile, password);
            }
            else
            {
                await Console.Error.WriteLineAsync("ca import: give either --pkcs12 FILE, or --certificate CERT.pem with --key KEY.pem");
                return 1;
            }
            return await ReportAsync(result, options, services.GetRequiredService<IAuditLog>());
        }));
        return import;
    }

    private static async Task<int> ReportAsync(CompanyCaImport.Result result, CaOptions options, IAuditLog audit)
    {
        var ca = result.Certificate;
        if (!result.Imported)
        {
            await Console.Error.WriteLineAsync($"not imported{(ca is null ? "" : $" {ca.Subject}")}: {string.Join("; ", result.Problems)}");
            return 1;
        }
        var root = result.Above.Count > 0 && CaFolder.IsSelfIssued(result.Above[^1]) ? result.Above[^1].Subject : null;
        await Console.Out.WriteLineAsync($"imported {ca!.Subject}: serial {ca.SerialNumber}, valid until {ca.NotAfter.ToUniversalTime():u}, " +
            (CaFolder.IsSelfIssued(ca) ? "a root CA" : root is null ? "a subordinate CA without its root (partners need the chain above it)" : $"a subordinate CA under {root}"));
        await Console.Out.WriteLineAsync($"written to {Path.GetFullPath(options.Path)}: ca.p12 (encrypted with Gateway:Ca:Password), ca.crt, ca-chain.pem");
        if (ca.NotAfter.ToUniversalTime() < DateTime.UtcNow.AddDays(options.ValidityDays))
            await Console.Out.WriteLineAsync($"note: the CA expires within Ca:ValidityDays ({options.ValidityDays}); certificates issued now end when it does");
        await audit.WriteAsync(new AuditEvent("ca-imported")
        {
            Serial = ca.SerialNumber, SignerCertificate = ca.Thumbprint, NotAfter = new DateTimeOffset(ca.NotAfter.ToUniversalTime()),
            Issuer = $"{BuiltInCertificateAuthority.IssuerName} ({ca.Subject})", Reason = root is null ? null : $"chain to {root}",
        }, CancellationToken.None);
        return 0;
    }
}
