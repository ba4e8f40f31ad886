using Gateway.Policy;

namespace Gateway.Cli;

/// <summary><c>gateway policy check [FILE]</c>: 0 when the policy compiles, 1 with file:line:column errors otherwise.</summary>
public static class PolicyCheckCommand
{
    public static async Task<int> ExecuteAsync(string file, TextWriter output, TextWriter error)
    {
        if (!File.Exists(file))
        {
            await error.WriteLineAsync($"{file}: no such file");
            return 1;
        }
        var result = PolicyCompiler.Compile(await File.ReadAllBytesAsync(file), file);
        if (!result.Succeeded)
        {
            foreach (var e in result.Errors) await error.WriteLineAsync(e.ToString());
            return 1;
        }
        await output.WriteLineAsync($"{file}: valid, revision {result.Snapshot!.Revision}, {result.Snapshot.Rules.Count} rules");
        return 0;
    }
}
