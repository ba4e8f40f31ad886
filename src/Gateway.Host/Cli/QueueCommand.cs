using System.CommandLine;
using Gateway.Spool;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway queue list|show|retry|hold|release|delete</c>: reads and changes the spool named in
/// the settings, safely while the gateway runs (see <see cref="SpoolAdministration"/>).
/// Exit 0 when every action succeeded, 1 otherwise, 2 for a bad id or bad settings.
/// </summary>
public static class QueueCommand
{
    public static Command Create(Option<string?> config)
    {
        var json = new Option<bool>("--json") { Description = "One JSON document instead of the table" };
        var list = new Command("list", "Queued and held entries: id, age, sender, recipients with state, next attempt") { json };
        list.SetAction((parse, token) => WithSpoolAsync(parse.GetValue(config), (admin, _) => Task.FromResult(QueueOutput.List(admin, parse.GetValue(json), Console.Out, Console.Error))));

        var body = new Option<bool>("--body") { Description = "Also print the message content (it may hold plaintext the policy must not leak: only when needed)" };
        var showId = Id();
        var show = new Command("show", "An entry's envelope and headers (the body only with --body)") { showId, body };
        show.SetAction((parse, token) => WithSpoolAsync(parse.GetValue(config), (admin, _) => QueueOutput.ShowAsync(admin, parse.GetValue(showId)!, parse.GetValue(body), Console.Out, Console.Error)));

        var all = new Option<bool>("--all") { Description = "Every entry in incoming/" };
        var retryId = new Argument<string?>("ID") { Arity = ArgumentArity.ZeroOrOne, Description = "Queue id" };
        var retry = new Command("retry", "Set the next attempt to now") { retryId, all };
        retry.SetAction((parse, token) => WithSpoolAsync(parse.GetValue(config), async (admin, t) =>
        {
            var id = parse.GetValue(retryId);
            if (parse.GetValue(all) == (id is not null))
            {
                await Console.Error.WriteLineAsync("give either an ID or --all");
                return 2;
            }
            return id is null ? Report(await admin.RetryAllAsync(t)) : Checked(id, out var bad) ?? Report([await admin.RetryAsync(id, t)]);
        }, token));

        return new Command("queue", "Inspect and control the spool (safe while Gateway runs; every change is audited)")
        {
            list, show, retry,
            Action("hold", "Move an incoming entry to hold/ (no delivery until released)", config, (a, id, t) => a.HoldAsync(id, t)),
            Action("release", "Move a held entry back to incoming/ and process it (the policy decides again)", config, (a, id, t) => a.ReleaseAsync(id, t)),
            Action("delete", "Remove an entry without delivery or bounce", config, (a, id, t) => a.DeleteAsync(id, t)),
        };
    }

    private static Argument<string> Id() => new("ID") { Description = "Queue id (ID, or ID-N for a policy hold copy)" };

    private static Command Action(string name, string description, Option<string?> config, Func<SpoolAdministration, string, CancellationToken, Task<QueueActionResult>> action)
    {
        var id = Id();
        var command = new Command(name, description) { id };
        command.SetAction((parse, token) => WithSpoolAsync(parse.GetValue(config), async (admin, t) =>
        {
            var value = parse.GetValue(id)!;
            return Checked(value, out _) ?? Report([await action(admin, value, t)]);
        }, token));
        return command;
    }

    /// <summary>Ids reach file names: only the spool's own alphabet is accepted.</summary>
    private static int? Checked(string name, out bool bad)
    {
        bad = !SpoolId.IsValidName(name);
        if (!bad) return null;
        Console.Error.WriteLine($"'{name}' is not a queue id (22 characters: UTC time and 8 base32 characters, e.g. 202611270223594C77SWRT)");
        return 2;
    }

    private static int Report(IReadOnlyList<QueueActionResult> results)
    {
        foreach (var result in results) (result.Succeeded ? Console.Out : Console.Error).WriteLine(result.Message);
        return results.All(r => r.Succeeded) ? 0 : 1;
    }

    private static async Task<int> WithSpoolAsync(string? configPath, Func<SpoolAdministration, CancellationToken, Task<int>> action, CancellationToken cancellationToken = default)
    {
        var host = await ValidatedHost.TryCreateAsync(configPath, Console.Error, tool: true);
        if (host is null) return 2;
        using (host)
        {
            return await action(host.Services.GetRequiredService<SpoolAdministration>(), cancellationToken);
        }
    }
}
