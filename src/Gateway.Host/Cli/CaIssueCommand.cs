using System.CommandLine;
using Gateway.Ca;
using Gateway.Policy;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway ca issue ADDRESS</c> issues a certificate now; <c>gateway ca issue --all</c> enrols
/// every sender who can be listed ahead of their first mail: the single addresses of
/// Ca:EligibleSenders and the members of Ca:EligibleGroup. Domains cannot be listed; they are
/// named as skipped. Run twice, --all issues nothing new: valid certificates are kept, due ones renewed.
/// </summary>
public static class CaIssueCommand
{
    private const string AllTrigger = "gateway ca issue --all (ahead of the first mail)";

    public static Command Create(Option<string?> config)
    {
        var address = new Argument<string?>("ADDRESS") { Description = "Sender address to issue a certificate for", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all")
        {
            Description = "Instead of ADDRESS: every listable eligible sender (the addresses in Ca:EligibleSenders and the members of Ca:EligibleGroup; " +
                "domain patterns cannot be listed and are skipped). Issues where none is valid, renews where due, keeps the rest",
        };
        var issue = new Command("issue", "Issue signing certificates now, before the first mail") { address, all, config };
        issue.SetAction((parse, token) => CaCommand.WithCaAsync(parse.GetValue(config), services =>
            (parse.GetValue(address), parse.GetValue(all)) switch
            {
                ({ } one, false) => IssueOneAsync(services.GetRequiredService<ICertificateIssuer>(), one, token),
                (null, true) => IssueAllAsync(services.GetRequiredService<SenderEligibility>(), services.GetRequiredService<CertificateEnrolment>(), Console.Out, token),
                _ => Usage(),
            }));
        return issue;
    }

    private static async Task<int> IssueOneAsync(ICertificateIssuer issuer, string address, CancellationToken cancellationToken)
    {
        var identity = await issuer.IssueAsync(address, "issued from the command line", cancellationToken);
        await Console.Out.WriteLineAsync($"issued {identity.Address}: serial {identity.Serial}, thumbprint {identity.Certificate.Thumbprint}, valid until {identity.Certificate.NotAfter.ToUniversalTime():u}");
        return 0;
    }

    public static async Task<int> IssueAllAsync(SenderEligibility eligibility, CertificateEnrolment enrolment, TextWriter output, CancellationToken cancellationToken)
    {
        var failed = false;
        foreach (var pattern in eligibility.Patterns.Where(p => p.Kind != AddressPattern.PatternKind.Address))
            await output.WriteLineAsync($"skipped pattern '{pattern}': a domain cannot be listed; its senders are enrolled on their first mail");
        var addresses = eligibility.Patterns.Where(p => p.Kind == AddressPattern.PatternKind.Address).Select(p => p.Value).ToList();
        var members = await eligibility.GroupMembersAsync(cancellationToken);
        if (!members.Known)
        {
            await output.WriteLineAsync($"failed: {members.Failure}");
            failed = true;
        }
        addresses.AddRange(members.Addresses);
        foreach (var address in addresses.Select(a => a.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal))
            failed |= !await EnsureAsync(enrolment, address, output, cancellationToken);
        return failed ? 1 : 0;
    }

    private static async Task<bool> EnsureAsync(CertificateEnrolment enrolment, string address, TextWriter output, CancellationToken cancellationToken)
    {
        EnrolmentResult result;
        try
        {
            result = await enrolment.EnsureAsync(address, AllTrigger, cancellationToken);
        }
        catch (Exception e) when (CaCommand.IsCaFailure(e))
        {
            await output.WriteLineAsync($"{address}: failed: {e.Message}");
            return false;
        }
        if (!result.Choice.Found)
        {
            await output.WriteLineAsync($"{address}: failed: {result.Choice.Reason}");
            return false;
        }
        var certificate = result.Choice.Selected!.Certificate;
        var until = $"{certificate.NotAfter.ToUniversalTime():u}";
        await output.WriteLineAsync(result.Outcome switch
        {
            EnrolmentOutcome.Issued => $"{address}: issued, serial {certificate.SerialNumber}, valid until {until}",
            EnrolmentOutcome.Renewed => $"{address}: renewed, serial {certificate.SerialNumber}, valid until {until}",
            _ => $"{address}: already valid until {until}, serial {certificate.SerialNumber}",
        });
        return true;
    }

    private static async Task<int> Usage()
    {
        await Console.Error.WriteLineAsync("ca issue: give either ADDRESS or --all");
        return 1;
    }
}
