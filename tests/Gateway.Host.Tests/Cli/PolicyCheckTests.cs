using Gateway.Cli;
using Gateway.Testing;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Cli;

/// <summary>`gateway policy check` says valid only when `gateway run` with the same files would start.</summary>
public sealed class PolicyCheckTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private string WriteSettings() => SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings);

    private static async Task<(int Exit, string Output, string Error)> CheckAsync(string file, string? config)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = await PolicyCheckCommand.ExecuteAsync(file, config, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>A PKCS#12 file in the certificate folder that the configured password does not open.</summary>
    internal static string WriteWrongPasswordIdentity(GatewayWorld world)
    {
        using var frank = world.Pki.Issue("frank@example.test");
        var path = Path.Combine(world.Certificates, "frank@example.test.p12");
        File.WriteAllBytes(path, frank.ExportPkcs12("not-the-configured-password"));
        return OwnerOnly.Apply(path);
    }

    [Fact]
    public async Task UnreadableCertificateFolderFile_IsAnError_NamingTheFile()
    {
        var frank = WriteWrongPasswordIdentity(_world);
        var (exit, output, error) = await CheckAsync(_world.PolicyPath, WriteSettings());
        Assert.Equal(1, exit);
        Assert.Contains($"certificate error: {frank}: ", error);
        Assert.DoesNotContain("valid", output);
    }

    [Fact]
    public async Task ReadableCertificateFolder_IsValid()
    {
        var (exit, output, error) = await CheckAsync(_world.PolicyPath, WriteSettings());
        Assert.True(exit == 0, error);
        Assert.Contains("valid, revision", output);
    }

    [Fact]
    public async Task WithSettingsAndNoFile_ChecksTheConfiguredPolicyPath_NotPolicyJsonInTheCurrentFolder()
    {
        var config = WriteSettings();
        var elsewhere = Directory.CreateDirectory(Path.Combine(_world.Root, "elsewhere")).FullName;

        var result = await GatewayCli.RunAsync(elsewhere, "policy", "check", "--config", config);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"{_world.PolicyPath}: valid, revision", result.Output);
    }

    [Fact]
    public async Task OneRule_IsCountedInTheSingular()
    {
        await File.WriteAllTextAsync(_world.PolicyPath, """
            { "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [ { "name": "only", "senders": ["example.test"], "sign": "always" } ] }
            """);
        var (exit, output, error) = await CheckAsync(_world.PolicyPath, WriteSettings());
        Assert.True(exit == 0, error);
        Assert.Contains(", 1 rule; signing identities checked", output);
    }
}
