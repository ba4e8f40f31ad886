using Gateway.Certificates;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Cli;

/// <summary>
/// Files of the certificate folder (or trust anchors) that could not be read, as the admin tools
/// name them: `gateway run` refuses to start while there are any, so a tool that goes on without
/// them must say so rather than answer as if the folder were whole.
/// </summary>
public static class UnreadableCertificates
{
    private static IReadOnlyList<string> Of(IServiceProvider services) => services.GetRequiredService<LocalCertificateStore>().Unreadable;

    /// <summary>For what refuses to go on, as `gateway run` does: one error line each; true when there were any.</summary>
    public static async Task<bool> RefuseAsync(IServiceProvider services, TextWriter error)
    {
        var unreadable = Of(services);
        foreach (var problem in unreadable) await error.WriteLineAsync($"certificate error: {problem}");
        return unreadable.Count > 0;
    }

    /// <summary>For a tool that answers without them: one warning line each.</summary>
    public static async Task WarnAsync(IServiceProvider services, TextWriter error)
    {
        foreach (var problem in Of(services))
            await error.WriteLineAsync($"warning: certificate file not read (gateway run refuses to start with it; answered without it): {problem}");
    }
}
