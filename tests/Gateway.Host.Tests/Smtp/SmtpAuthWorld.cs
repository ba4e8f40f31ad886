using Gateway.Smtp;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Smtp;

/// <summary>A gateway world where loopback, where the tests connect from, is not trusted: clients authenticate over TLS against a users file.</summary>
internal static class SmtpAuthWorld
{
    /// <summary>relay-user owns alice@example.test and @sales.example.test; bob@example.test owns its own address. Both use "correct horse".</summary>
    public static GatewayWorld Create()
    {
        var world = new GatewayWorld();
        world.Settings["Gateway:Smtp:AllowedNetworks:0"] = "10.0.0.0/8";
        world.Settings["Gateway:Smtp:Tls:CertificatePath"] = TestServerCertificate.Write(world.Root);
        world.Settings["Gateway:Smtp:Tls:CertificatePassword"] = TestServerCertificate.Password;
        var users = Path.Combine(world.Root, "smtp-users");
        var hash = PasswordHash.Create("correct horse", PasswordHash.MinimumIterations);
        File.WriteAllText(users, $"# test users\nrelay-user:{hash}:alice@example.test,@sales.example.test\nbob@example.test:{hash}\n");
        world.Settings["Gateway:Smtp:Auth:UsersFile"] = Gateway.Testing.OwnerOnly.Apply(users);
        return world;
    }
}
