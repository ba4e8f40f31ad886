using System.CommandLine;

namespace Gateway.Cli;

/// <summary>The verbs. <c>run</c> is the default when none is given.</summary>
public static class GatewayCommandLine
{
    public static RootCommand Create()
    {
        var config = new Option<string?>("--config") { Description = "Settings file (default: appsettings.json in the current folder)" };

        var run = new Command("run", "Run the gateway (the default)") { config };
        run.SetAction((parse, token) => RunCommand.ExecuteAsync(parse.GetValue(config), Console.Error, token));

        var file = new Argument<string>("FILE") { Description = "Policy file", DefaultValueFactory = _ => "policy.json" };
        var check = new Command("check", "Validate a policy file; exit 0 when valid, 1 with the errors") { file };
        check.SetAction(parse => PolicyCheckCommand.ExecuteAsync(parse.GetValue(file)!, Console.Out, Console.Error));
        var policy = new Command("policy", "Policy tools") { check };

        var importFiles = new Argument<string[]>("FILE") { Description = "Signed .eml messages or certificate files (.crt .pem .cer .der .p7b .p7c)", Arity = ArgumentArity.OneOrMore };
        var import = new Command("import", "Store partners' certificates (from verified signed mail or certificate files) in the certificate cache as 'harvested'") { importFiles, config };
        import.SetAction(parse => CertsImportCommand.ExecuteAsync(parse.GetValue(config), parse.GetValue(importFiles)!, Console.Out, Console.Error));
        var certs = new Command("certs", "Certificate directory tools") { import };

        var root = new RootCommand("Gateway: an S/MIME mail gateway. Receives mail over SMTP, signs and encrypts it by policy, relays it upstream.")
        {
            config, run, policy, certs,
        };
        root.SetAction((parse, token) => RunCommand.ExecuteAsync(parse.GetValue(config), Console.Error, token));
        return root;
    }
}
