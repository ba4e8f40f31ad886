using System.CommandLine;
using Gateway.Cli;

namespace Gateway.Tests.Cli;

/// <summary>The verbs' help and parse errors, as an admin reads them: each option once, required ones marked, no .NET type names.</summary>
public sealed class CommandLineTests
{
    private static (int Exit, string Output) Invoke(params string[] arguments)
    {
        var output = new StringWriter();
        var exit = GatewayCommandLine.Create().Parse(arguments).Invoke(new InvocationConfiguration { Output = output, Error = output });
        return (exit, output.ToString());
    }

    private static IEnumerable<string[]> LeafCommands(Command command, string[] path)
    {
        if (command.Subcommands.Count == 0) return [path];
        return command.Subcommands.SelectMany(c => LeafCommands(c, [.. path, c.Name]));
    }

    private static IReadOnlyList<string> ParseErrors(params string[] arguments) =>
        GatewayCommandLine.Create().Parse(arguments).Errors.Select(e => e.Message).ToList();

    [Fact]
    public void HelpOfEveryCommand_ListsConfigOnce()
    {
        var leaves = LeafCommands(GatewayCommandLine.Create(), []).ToList();
        Assert.Contains(leaves, l => l.SequenceEqual(["ca", "export"]));
        foreach (var leaf in leaves)
        {
            var (_, help) = Invoke([.. leaf, "--help"]);
            Assert.True(help.Split('\n').Count(l => l.TrimStart().StartsWith("--config", StringComparison.Ordinal)) == 1, $"gateway {string.Join(' ', leaf)} --help:\n{help}");
        }
    }

    [Fact]
    public void CaExportWithoutPasswordFile_IsAParseError_AndTheHelpMarksItRequired()
    {
        Assert.Contains(ParseErrors("ca", "export", "frank@example.test", "--out", "frank.p12"), e => e.Contains("--password-file", StringComparison.Ordinal));
        var (_, help) = Invoke("ca", "export", "--help");
        Assert.Contains(help.Split('\n'), l => l.TrimStart().StartsWith("--password-file", StringComparison.Ordinal) && l.Contains("(REQUIRED)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("x")]
    [InlineData("-5")]
    public void ExpiringThatIsNotADayCount_IsRefused_SayingWhatIsExpected(string days)
    {
        var error = Assert.Single(ParseErrors("certs", "list", "--expiring", days));
        Assert.Equal($"--expiring: '{days}' is not a number of days (a whole number, 0 or more)", error);
    }

    [Fact]
    public void UnknownRevocationReason_IsRefused_ListingTheReasons_WithoutTheDotNetType()
    {
        var error = Assert.Single(ParseErrors("ca", "revoke", "frank@example.test", "--reason", "stolen"));
        Assert.StartsWith("--reason: 'stolen' is not one of unspecified, keyCompromise,", error);
        Assert.DoesNotContain("X509RevocationReason", error);
    }

    [Theory]
    [InlineData("keyCompromise")]
    [InlineData("KeyCompromise")]
    public void RevocationReason_IsTakenByName(string name)
    {
        var parse = GatewayCommandLine.Create().Parse(["ca", "revoke", "frank@example.test", "--reason", name]);
        Assert.Empty(parse.Errors);
    }
}
