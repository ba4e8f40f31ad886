using System.CommandLine;

namespace Gateway.Cli;

/// <summary>The verbs. <c>run</c> is the default when none is given.</summary>
public static class GatewayCommandLine
{
    public static RootCommand Create()
    {
        var config = new Option<string?>("--config") { Description = "Settings file (default: appsettings.json in the current folder)", Recursive = true };

        var run = new Command("run", "Run the gateway (the default)");
        run.SetAction((parse, token) => RunCommand.ExecuteAsync(parse.GetValue(config), Console.Error, token));

        var file = new Argument<string>("FILE") { Description = "Policy file", DefaultValueFactory = _ => "policy.json" };
        var check = new Command("check", "Validate a policy file; exit 0 when valid, 1 with the errors") { file };
        check.SetAction(parse => PolicyCheckCommand.ExecuteAsync(parse.GetValue(file)!, Console.Out, Console.Error));
        var policy = new Command("policy", "Policy tools") { check };

        var root = new RootCommand("Gateway: an S/MIME mail gateway. Receives mail over SMTP, signs and encrypts it by policy, relays it upstream.")
        {
            config, run, policy, QueueCommand.Create(config),
        };
        root.SetAction((parse, token) => RunCommand.ExecuteAsync(parse.GetValue(config), Console.Error, token));
        return root;
    }
}
