using System.Text.Json;
using Gateway.Certificates;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway certs lookup ADDRESS [--json]</c>: what the running gateway would use for an
/// address now, as sender and as recipient: the chosen certificate and its source, why it won,
/// every rejected candidate with its problems (expired, untrusted, revoked ...), and sources that
/// could not be asked. Exit 0 when a recipient certificate is usable, 1 otherwise.
/// </summary>
public static class CertsLookupCommand
{
    public static async Task<int> ExecuteAsync(string? configPath, string address, bool json, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var host = await ValidatedHost.TryCreateAsync(configPath, error, tool: true);
        if (host is null) return 1;
        await UnreadableCertificates.WarnAsync(host.Services, error);
        // The sources as the gateway asks them (no enrolment, no minute-long cache), with the capabilities harvested for what they find.
        ICertificateDirectory directory = new AdvertisedCapabilitiesDirectory(host.Services.GetRequiredService<CertificateResolver>(), host.Services.GetRequiredService<CertificateCache>());
        var recipient = await directory.FindRecipientAsync(address, cancellationToken);
        var signer = await directory.FindSignerAsync(address, cancellationToken);
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(new
            {
                address, encryption = Describe(recipient), signing = Describe(signer),
                // The certificate the signature names for replies (SMIMEEncryptionKeyPreference), when one is.
                repliesEncryptedTo = signer.ReplyChain?.FirstOrDefault()?.Thumbprint,
            }, new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            await Print(output, $"encryption to {address}", recipient);
            await Print(output, $"signing as {address}", signer);
        }
        return recipient.Found ? 0 : 1;
    }

    private static object Describe(CertificateChoice choice) => new
    {
        usable = choice.Found,
        thumbprint = choice.Selected?.Certificate.Thumbprint,
        subject = choice.Selected?.Certificate.Subject,
        notAfter = choice.Selected?.Certificate.NotAfter.ToUniversalTime(),
        source = choice.Selected?.Source,
        alsoEncryptedTo = choice.AlsoUsable.Select(u => u.Candidate.Certificate.Thumbprint).ToList(),
        capabilities = choice.Selected?.Capabilities?.Names,
        reason = choice.Reason,
        rejected = choice.Rejected,
        unavailable = choice.TemporaryFailure,
    };

    private static async Task Print(TextWriter output, string title, CertificateChoice choice)
    {
        await output.WriteLineAsync($"{title}: {(choice.Found ? "usable" : choice.TemporaryFailure is not null ? "unknown for now (a source could not be asked)" : "none")}");
        if (choice.Selected is { } selected)
            await output.WriteLineAsync($"  certificate {selected.Certificate.Thumbprint} from {selected.Source}, {selected.Certificate.Subject}, valid until {selected.Certificate.NotAfter.ToUniversalTime():u}");
        if (choice.Selected?.Capabilities is { } capabilities)
            await output.WriteLineAsync($"  its owner's client reads (SMIMECapabilities of their signed mail, in their order): {string.Join(", ", capabilities.Names)}");
        foreach (var other in choice.AlsoUsable.Select(u => u.Candidate))
            await output.WriteLineAsync($"  also encrypted to {other.Certificate.Thumbprint} from {other.Source}, valid until {other.Certificate.NotAfter.ToUniversalTime():u}");
        await output.WriteLineAsync($"  why: {choice.Reason}");
        foreach (var rejected in choice.Rejected) await output.WriteLineAsync($"  rejected: {rejected}");
    }
}
