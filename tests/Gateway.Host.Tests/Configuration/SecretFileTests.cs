using Gateway.Cli;
using Gateway.Smtp;
using Gateway.Tests.Fixtures;
using Gateway.Tests.Smtp;

namespace Gateway.Tests.Configuration;

/// <summary>Keys at rest: Gateway refuses key and password files others can read, and never shows a password.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SecretFileTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private Task<(int ExitCode, string Error)> RunAsync() => RefusedStart.RunAsync(_world.Root, _world.Settings);

    [Fact]
    public async Task WorldReadableSigningKey_RefusesToStart_NamingTheFileAndTheFix()
    {
        File.SetUnixFileMode(_world.AliceFiles.Pkcs12Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var (exit, error) = await RunAsync();
        Assert.Equal(1, exit);
        Assert.Contains($"Gateway:Certificates:Path: '{_world.AliceFiles.Pkcs12Path}' holds a secret but is accessible to other users (mode 0644)", error);
        Assert.Contains("chmod 600", error);
    }

    [Fact]
    public async Task SigningIdentityThatCannotBeOpened_RefusesToStart_NamingTheFileButNeverThePassword()
    {
        _world.Settings["Gateway:Certificates:Pkcs12Password"] = "not-the-password-4711";
        var (exit, error) = await RunAsync();
        Assert.Equal(1, exit);
        Assert.Contains($"certificate error: {_world.AliceFiles.Pkcs12Path}: ", error);
        Assert.DoesNotContain("not-the-password-4711", error);
    }

    [Fact]
    public async Task PasswordFileSavedWithCrlf_StillOpensTheIdentity()
    {
        var file = Path.Combine(_world.Root, "p12-password-crlf");
        File.WriteAllText(file, GatewayWorld.Pkcs12Password + "\r\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _world.Settings.Remove("Gateway:Certificates:Pkcs12Password");
        _world.Settings["Gateway:Certificates:Pkcs12PasswordFile"] = file;
        await using var gateway = await RunningGateway.StartAsync(_world);
        var store = (Gateway.Certificates.LocalCertificateStore)gateway.Services.GetService(typeof(Gateway.Certificates.LocalCertificateStore))!;
        Assert.Empty(store.Unreadable);
        var directory = (Gateway.Certificates.ICertificateDirectory)gateway.Services.GetService(typeof(Gateway.Certificates.ICertificateDirectory))!;
        Assert.True((await directory.FindSignerAsync("alice@example.test", default)).Found);
    }

    [Fact]
    public async Task GroupReadablePasswordFile_RefusesToStart()
    {
        var file = Path.Combine(_world.Root, "p12-password");
        File.WriteAllText(file, GatewayWorld.Pkcs12Password + "\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.GroupRead);
        _world.Settings.Remove("Gateway:Certificates:Pkcs12Password");
        _world.Settings["Gateway:Certificates:Pkcs12PasswordFile"] = file;
        var (exit, error) = await RunAsync();
        Assert.Equal(1, exit);
        Assert.Contains($"Gateway:Certificates:Pkcs12PasswordFile: '{file}' holds a secret", error);
        Assert.DoesNotContain(GatewayWorld.Pkcs12Password, error);
    }

    [Fact]
    public async Task GroupReadableCaPasswordFile_RefusesToStart_NamingTheKey_NeverThePassword()
    {
        var file = Path.Combine(_world.Root, "ca-password");
        File.WriteAllText(file, "ca-secret-0815\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        _world.Settings["Gateway:Ca:Enabled"] = "true";
        _world.Settings["Gateway:Ca:Path"] = Path.Combine(_world.Root, "ca");
        _world.Settings["Gateway:Ca:PasswordFile"] = file;
        var (exit, error) = await RunAsync();
        Assert.Equal(1, exit);
        Assert.Contains($"Gateway:Ca:PasswordFile: '{file}' holds a secret but is accessible to other users (mode 0640)", error);
        Assert.DoesNotContain("ca-secret-0815", error);
    }

    [Fact]
    public async Task InsecurePermissions_AreAccepted_OnlyWhenExplicitlyAllowed()
    {
        File.SetUnixFileMode(_world.AliceFiles.Pkcs12Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        _world.Settings["Gateway:Certificates:AllowInsecureKeyPermissions"] = "true";
        await using var gateway = await RunningGateway.StartAsync(_world);
        Assert.True(gateway.Port > 0);
    }

    [Fact]
    public async Task WrongTlsPassword_StopsTheStart_NamingTheFile_NeverThePassword()
    {
        _world.Settings["Gateway:Smtp:Tls:CertificatePath"] = TestServerCertificate.Write(_world.Root);
        _world.Settings["Gateway:Smtp:Tls:CertificatePassword"] = "Wr0ng-Passw0rd";
        var (exit, error) = await RunAsync();
        Assert.NotEqual(0, exit);
        Assert.Contains("server.p12", error);
        Assert.DoesNotContain("Wr0ng-Passw0rd", error);
        if (File.Exists(_world.AuditPath)) Assert.DoesNotContain("Wr0ng-Passw0rd", await File.ReadAllTextAsync(_world.AuditPath));
    }

    [Fact]
    public async Task AuthWithoutTls_RefusesToStart()
    {
        var users = Path.Combine(_world.Root, "users");
        File.WriteAllText(users, $"u:{PasswordHash.Create("p", PasswordHash.MinimumIterations)}\n");
        _world.Settings["Gateway:Smtp:Auth:UsersFile"] = Gateway.Testing.OwnerOnly.Apply(users);
        var (exit, error) = await RunAsync();
        Assert.Equal(1, exit);
        Assert.Contains("Gateway:Smtp:Auth:UsersFile needs Gateway:Smtp:Tls:CertificatePath", error);
    }

    [Fact]
    public async Task UsersFileWithABadLine_RefusesToStart_NamingFileAndLine()
    {
        _world.Settings["Gateway:Smtp:Tls:CertificatePath"] = TestServerCertificate.Write(_world.Root);
        _world.Settings["Gateway:Smtp:Tls:CertificatePassword"] = TestServerCertificate.Password;
        var users = Path.Combine(_world.Root, "users");
        File.WriteAllText(users, "# users\nbob:plaintext-password\n");
        _world.Settings["Gateway:Smtp:Auth:UsersFile"] = Gateway.Testing.OwnerOnly.Apply(users);
        var (exit, error) = await RunAsync();
        Assert.Equal(1, exit);
        Assert.Contains($"{users}:2: user 'bob'", error);
        Assert.DoesNotContain("plaintext-password", error);
    }

    [Fact]
    public void AuthHash_ReadsThePasswordFromStdin_AndPrintsAVerifiableLine()
    {
        var output = new StringWriter();
        var exit = AuthHashCommand.Execute("relay", new StringReader("s3cret\n"), output, new StringWriter());
        Assert.Equal(0, exit);
        var line = output.ToString().Trim();
        Assert.StartsWith("relay:$pbkdf2-sha256$600000$", line);
        Assert.True(PasswordHash.TryParse(line["relay:".Length..], out var hash, out _));
        Assert.True(hash!.Verify("s3cret"));
    }
}
