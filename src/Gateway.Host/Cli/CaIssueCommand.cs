using System.CommandLine;
using Gateway.Ca;
using Gateway.Policy;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway ca issue ADDRESS [--force]</c> issues a certificate now for an eligible sender (any
/// address with --force, which the audit line records); <c>gateway ca issue --all</c> enrols
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
        var force = new Option<bool>("--force")
        {
            Description = "With ADDRESS: issue even though the sender is not eligible (matches no Ca:EligibleSenders pattern and is not in Ca:EligibleGroup, " +
                "or the group cannot be read); the audit line says so",
        };
        var issue = new Command("issue", "Issue signing certificates now, before the first mail") { address, all, force };
        issue.SetAction((parse, token) => CaCommand.WithCaAsync(parse.GetValue(config), services =>
            (parse.GetValue(address), parse.GetValue(all)) switch
            {
                ({ } one, false) => IssueOneAsync(services.GetRequiredService<ICertificateIssuer>(), services.GetRequiredService<SenderEligibility>(), one, parse.GetValue(force), token),
                (null, true) => IssueAllAsync(services.GetRequiredService<SenderEligibility>(), services.GetRequiredService<CertificateEnrolment>(), Console.Out, token),
                _ => Usage(),
            }));
        return issue;
    }

    private static async Task<int> IssueOneAsync(ICertificateIssuer issuer, SenderEligibility eligibility, string address, bool force, CancellationToken cancellationToken)
    {
        if (!IsMailbox(address))
        {
            await Console.Error.WriteLineAsync($"ca issue: '{address}' is not a mail address (user@example.com, ASCII only: an S/MIME certificate's rfc822Name cannot hold more)");
            return 1;
        }
        var eligible = await eligibility.CheckAsync(address, cancellationToken);
        if (eligible.Status != EligibilityStatus.Eligible && !force)
        {
            await Console.Error.WriteLineAsync($"ca issue: {address} is not eligible ({eligible.Reason}); give --force to issue anyway");
            return 1;
        }
        var trigger = eligible.Status == EligibilityStatus.Eligible
            ? $"issued from the command line ({eligible.Reason})"
            : $"issued from the command line with --force ({eligible.Reason})";
        IssuedIdentity identity;
        try
        {
            identity = await issuer.IssueAsync(address, trigger, cancellationToken);
        }
        catch (Exception e) when (CaCommand.IsCaFailure(e))
        {
            await Console.Error.WriteLineAsync($"ca issue: not issued: {e.Message}");
            return 1;
        }
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

    /// <summary>One address (not a domain or pattern) in printable ASCII, as an rfc822Name (IA5String) must be.</summary>
    private static bool IsMailbox(string address) =>
        address.All(c => c is > ' ' and < '\u007f')
        && AddressPattern.TryParse(address, out var pattern, out _) && pattern!.Kind == AddressPattern.PatternKind.Address;

    private static async Task<int> Usage()
    {
        await Console.Error.WriteLineAsync("ca issue: give either ADDRESS or --all");
        return 1;
    }
}
