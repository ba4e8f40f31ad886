using System.CommandLine;

namespace Gateway.Cli;

/// <summary>The verbs. <c>run</c> is the default when none is given.</summary>
public static class GatewayCommandLine
{
    public static RootCommand Create()
    {
        // Recursive: every command takes it and lists it once in its help (added to a command as well, it was listed twice).
        var config = new Option<string?>("--config") { Description = "Settings file (default: appsettings.json in the current folder)", Recursive = true, HelpName = "FILE" };

        var run = new Command("run", "Run the gateway (the default)");
        run.SetAction((parse, token) => RunCommand.ExecuteAsync(parse.GetValue(config), Console.Error, token));

        var file = new Argument<string?>("FILE") { Description = "Policy file (default: Gateway:Policy:Path of the settings, or policy.json without settings)", Arity = ArgumentArity.ZeroOrOne };
        var check = new Command("check", "Validate a policy file; exit 0 when valid, 1 with the errors") { file };
        check.SetAction((parse, token) => PolicyCheckCommand.ExecuteAsync(parse.GetValue(file), parse.GetValue(config), Console.Out, Console.Error, token));
        var from = new Option<string>("--from") { Description = "Envelope sender (MAIL FROM); <> for the null sender", Required = true };
        var to = new Option<string[]>("--to") { Description = "Envelope recipient (RCPT TO); repeat for several", Required = true, AllowMultipleArgumentsPerToken = false };
        var subject = new Option<string?>("--subject") { Description = "Subject of the message (for the subject-tag trigger)" };
        var header = new Option<string[]>("--header") { Description = "A header of the message, \"Name: value\"; repeat for several" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text" };
        var explain = new Command("explain", "Show, per recipient, the rule, the decision and the certificate the gateway would use now")
        {
            from, to, subject, header, json,
        };
        explain.SetAction((parse, token) => PolicyExplainCommand.ExecuteAsync(
            new PolicyExplainCommand.Request(parse.GetValue(from)!, parse.GetValue(to)!, parse.GetValue(subject), parse.GetValue(header) ?? [], parse.GetValue(json), parse.GetValue(config)),
            Console.Out, Console.Error, token));
        var policy = new Command("policy", "Policy tools") { check, explain };

        var user = new Argument<string>("USER") { Description = "SMTP user name" };
        var hash = new Command("hash", "Read a password from standard input and print the line for Gateway:Smtp:Auth:UsersFile") { user };
        hash.SetAction(parse => AuthHashCommand.Execute(parse.GetValue(user)!, Console.In, Console.Out, Console.Error));
        var auth = new Command("auth", "SMTP AUTH tools") { hash };

        var importFiles = new Argument<string[]>("FILE") { Description = "Signed .eml messages or certificate files (.crt .pem .cer .der .p7b .p7c)", Arity = ArgumentArity.OneOrMore };
        var import = new Command("import", "Store partners' certificates (from verified signed mail or certificate files) in the certificate cache as 'harvested'") { importFiles };
        import.SetAction(parse => CertsImportCommand.ExecuteAsync(parse.GetValue(config), parse.GetValue(importFiles)!, Console.Out, Console.Error));
        var lookupAddress = new Argument<string>("ADDRESS") { Description = "The address to look up" };
        var lookupJson = new Option<bool>("--json") { Description = "Print JSON instead of text" };
        var lookup = new Command("lookup", "Show which certificate the gateway would use for an address now, from which source, and why others were rejected") { lookupAddress, lookupJson };
        lookup.SetAction((parse, token) => CertsLookupCommand.ExecuteAsync(parse.GetValue(config), parse.GetValue(lookupAddress)!, parse.GetValue(lookupJson), Console.Out, Console.Error, token));
        var listExpiring = new Option<int?>("--expiring") { Description = "Only certificates unusable already or ending within this many days (0 or more)", HelpName = "DAYS", CustomParser = CommandLineValues.Days };
        var listJson = new Option<bool>("--json") { Description = "Print JSON instead of text" };
        var list = new Command("list", "List every certificate Gateway holds (local folder, cache, harvested) with its use, source, end of validity and whether it is usable now") { listExpiring, listJson };
        list.SetAction(parse => CertsListCommand.ExecuteAsync(parse.GetValue(config), parse.GetValue(listExpiring), parse.GetValue(listJson), Console.Out, Console.Error));
        var certs = new Command("certs", "Certificate directory tools") { import, lookup, list };

        var relayCheck = new Command("check", "Open a session with each configured upstream as the relay would (TLS, AUTH), say what it offers, and close it without sending mail");
        relayCheck.SetAction((parse, token) => RelayCheckCommand.ExecuteAsync(parse.GetValue(config), Console.Out, Console.Error, token));
        var relay = new Command("relay", "Upstream tools") { relayCheck };

        var root = new RootCommand("Gateway: an S/MIME mail gateway. Receives mail over SMTP, signs and encrypts it by policy, relays it upstream.")
        {
            config, run, policy, auth, certs, relay, CaCommand.Create(config), QueueCommand.Create(config),
        };
        root.SetAction((parse, token) => RunCommand.ExecuteAsync(parse.GetValue(config), Console.Error, token));
        return root;
    }
}
