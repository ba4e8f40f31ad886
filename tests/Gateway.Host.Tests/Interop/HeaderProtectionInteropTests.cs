using System.Text;
using Gateway.Testing.Peers;
using Gateway.Tests.Fixtures;
using MimeKit;

namespace Gateway.Tests.Interop;

/// <summary>
/// A rule with "headerProtection": "hideSubject" sends the partner "Subject: [...]"; what OpenSSL
/// and gpgsm decrypt holds the real Subject, marked hp="cipher" with the HP-Outer record, under
/// a signature both verify, and its text starts with the Subject for clients that do not read
/// protected headers.
/// </summary>
public sealed class HeaderProtectionInteropTests : IAsyncLifetime
{
    private const string Subject = "Merger: terms for Friday";
    private readonly GatewayWorld _world = new(GatewayWorld.SamplePolicy.Replace(
        "\"sign\": \"always\", \"encrypt\": \"required\", \"missingCertificate\": \"refuse\" }",
        "\"sign\": \"always\", \"encrypt\": \"required\", \"missingCertificate\": \"refuse\", \"headerProtection\": \"hideSubject\" }"));
    private RunningGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        Assert.Contains("hideSubject", await File.ReadAllTextAsync(_world.PolicyPath));
        _gateway = await RunningGateway.StartAsync(_world);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _world.Dispose();
    }

    private async Task<(string Eml, System.Text.Json.JsonElement Delivered)> SendToBobAsync()
    {
        var message = RunningGateway.NewMessage("alice@example.test", "bob@partner.test", Subject);
        message.Body = new MultipartAlternative
        {
            new TextPart("plain") { Text = "The terms are attached.\r\n" },
            new TextPart("html") { Text = "<html><body><p>The terms are attached.</p></body></html>" },
        };
        await _gateway.SendAsync(message, "alice@example.test", "bob@partner.test");
        var delivered = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "bob@partner.test"));
        return (_world.OutboxFileOf(delivered), delivered);
    }

    [Fact]
    public async Task TheSubjectIsHiddenOutside_AndOpenSslDecryptsAndVerifiesThePayloadThatCarriesIt()
    {
        var (eml, delivered) = await SendToBobAsync();

        var sent = await File.ReadAllTextAsync(eml);
        Assert.Contains("Subject: [...]\r\n", sent);
        Assert.DoesNotContain("Merger", sent);
        Assert.Contains("subject:hidden", delivered.GetProperty("algorithms").GetString());

        var decrypted = await OpenSslCms.DecryptAsync(eml, _world.BobFiles.CertificatePath, _world.BobFiles.KeyPath);
        Assert.True(decrypted.Success, decrypted.Stderr);
        var inner = eml + ".inner";
        await File.WriteAllBytesAsync(inner, decrypted.Content);
        var verified = await OpenSslCms.VerifyAsync(inner, _world.CaCertificatePath);
        Assert.True(verified.Success, verified.Stderr);

        var payload = MimeEntity.Load(new MemoryStream(verified.Content));
        Assert.Equal("cipher", payload.ContentType.Parameters["hp"]);
        Assert.Equal(Subject, payload.Headers[HeaderId.Subject]);
        Assert.Contains(payload.Headers, h => h.Field == "HP-Outer" && h.Value.Trim() == "Subject: [...]");
        var alternative = Assert.IsType<MultipartAlternative>(payload);
        Assert.All(alternative.OfType<TextPart>(), part =>
        {
            Assert.Equal("1", part.ContentType.Parameters["hp-legacy-display"]);
            Assert.Contains("Subject: " + Subject, part.Text);
        });
    }

    [Fact]
    public async Task GpgsmDecryptsAndVerifies_AndReadsTheRealSubjectInside()
    {
        var (eml, _) = await SendToBobAsync();

        await using var gpgsm = await Gpgsm.CreateAsync(_world.CaCertificatePath);
        var import = await gpgsm.ImportIdentityAsync(_world.Bob, GatewayWorld.Pkcs12Password);
        Assert.True(import.Success, import.Stderr);
        var decrypted = await gpgsm.DecryptAsync(eml, GatewayWorld.Pkcs12Password);
        Assert.True(decrypted.Success, decrypted.Stderr);
        var inner = eml + ".gpgsm-inner";
        await File.WriteAllBytesAsync(inner, decrypted.Content);
        var verified = await gpgsm.VerifyDetachedAsync(inner);
        Assert.True(verified.GoodSignature && verified.Trusted, verified.Status + verified.Stderr);
        Assert.Contains($"Subject: {Subject}\r\n", Encoding.UTF8.GetString(decrypted.Content));
    }
}
