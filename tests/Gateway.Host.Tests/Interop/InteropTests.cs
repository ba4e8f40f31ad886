using System.Text;
using Gateway.Testing.Peers;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Interop;

/// <summary>
/// What Gateway writes is read by independent S/MIME implementations: OpenSSL's cms and GnuPG's
/// gpgsm (the engine behind Kleopatra and KMail). The gateway writes to its outbox here, the
/// embedded default, so the files checked are exactly what an upstream would receive.
/// </summary>
public sealed class InteropTests : IAsyncLifetime
{
    private readonly GatewayWorld _world = new();
    private RunningGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await RunningGateway.StartAsync(_world);

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _world.Dispose();
    }

    private async Task<string> SendAndWaitForOutboxAsync(string to, string subject, string body)
    {
        var message = RunningGateway.NewMessage("alice@example.test", to, subject, body);
        // Non-ASCII and 8-bit content: the signature must survive it being made 7-bit.
        message.Body = new MimeKit.Multipart("mixed")
        {
            new MimeKit.TextPart("plain") { Text = body },
            new MimeKit.MimePart("application", "octet-stream") { Content = new MimeKit.MimeContent(new MemoryStream(Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray())), FileName = "data.bin" },
        };
        await _gateway.SendAsync(message, "alice@example.test", to);
        var delivered = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", to));
        var reply = delivered.GetProperty("reply").GetString()!;
        var name = reply[(reply.LastIndexOf(' ') + 1)..];
        return Path.Combine(_world.OutboxPath, name);
    }

    [Fact]
    public async Task SignedAndEncryptedMail_DecryptsAndVerifiesWithOpenSsl_WithClassicAlgorithms()
    {
        var eml = await SendAndWaitForOutboxAsync("bob@partner.test", "openssl interop", "Grüße an Bob – vertraulich.");

        var structure = await OpenSslCms.CmsPrintAsync(eml);
        Assert.True(structure.Success, structure.Stderr);
        Assert.Contains("aes-256-cbc", structure.Stdout);
        Assert.Contains("rsaEncryption", structure.Stdout);
        Assert.DoesNotContain("des-ede3", structure.Stdout);

        var decrypted = await OpenSslCms.DecryptAsync(eml, _world.BobFiles.CertificatePath, _world.BobFiles.KeyPath);
        Assert.True(decrypted.Success, decrypted.Stderr);
        var inner = eml + ".inner";
        await File.WriteAllBytesAsync(inner, decrypted.Content);
        var verified = await OpenSslCms.VerifyAsync(inner, _world.CaCertificatePath);
        Assert.True(verified.Success, verified.Stderr);
        Assert.DoesNotContain(decrypted.Content, b => b > 127); // made 7-bit before signing
        var signedEntity = MimeKit.MimeEntity.Load(new MemoryStream(verified.Content));
        Assert.Equal("Grüße an Bob – vertraulich.", ((MimeKit.Multipart)signedEntity).OfType<MimeKit.TextPart>().First().Text);

        var signature = await OpenSslCms.CmsPrintAsync(inner);
        Assert.Contains("sha256", signature.Stdout);
        Assert.Contains("1.2.840.113549.1.9.15", signature.Stdout.Replace("SMIMECapabilities", "1.2.840.113549.1.9.15"));
    }

    [Fact]
    public async Task SignedAndEncryptedMail_DecryptsAndVerifiesWithGpgsm()
    {
        var eml = await SendAndWaitForOutboxAsync("bob@partner.test", "gpgsm interop", "Hello Bob, from the gateway.");

        await using var gpgsm = await Gpgsm.CreateAsync(_world.CaCertificatePath);
        var import = await gpgsm.ImportIdentityAsync(_world.Bob, GatewayWorld.Pkcs12Password);
        Assert.True(import.Success, import.Stderr);
        var decrypted = await gpgsm.DecryptAsync(eml, GatewayWorld.Pkcs12Password);
        Assert.True(decrypted.Success, decrypted.Stderr);

        var inner = eml + ".gpgsm-inner";
        await File.WriteAllBytesAsync(inner, decrypted.Content);
        var verified = await gpgsm.VerifyDetachedAsync(inner);
        Assert.True(verified.GoodSignature, verified.Status + verified.Stderr);
        Assert.True(verified.Trusted, verified.Status + verified.Stderr);
        Assert.Equal(0, verified.ExitCode);
    }

    [Fact]
    public async Task SignedOnlyMail_VerifiesWithOpenSslAndGpgsm()
    {
        var eml = await SendAndWaitForOutboxAsync("dave@elsewhere.test", "signed only", "No certificate for Dave, so signed only.");
        Assert.Contains("multipart/signed", await File.ReadAllTextAsync(eml));

        var verified = await OpenSslCms.VerifyAsync(eml, _world.CaCertificatePath);
        Assert.True(verified.Success, verified.Stderr);

        await using var gpgsm = await Gpgsm.CreateAsync(_world.CaCertificatePath);
        var gpg = await gpgsm.VerifyDetachedAsync(eml);
        Assert.True(gpg.GoodSignature && gpg.Trusted, gpg.Status + gpg.Stderr);
    }

    [Fact]
    public async Task TamperedSignedMail_FailsVerification_SoTheInteropChecksCanFail()
    {
        var eml = await SendAndWaitForOutboxAsync("dave@elsewhere.test", "tamper", "Original words.");
        var text = await File.ReadAllTextAsync(eml);
        await File.WriteAllTextAsync(eml, text.Replace("Original words.", "Altered words.."));

        var verified = await OpenSslCms.VerifyAsync(eml, _world.CaCertificatePath);
        Assert.False(verified.Success);
        await using var gpgsm = await Gpgsm.CreateAsync(_world.CaCertificatePath);
        Assert.False((await gpgsm.VerifyDetachedAsync(eml)).GoodSignature);
    }

    [Fact]
    public async Task OutputHasCrlfLineEndsOnly()
    {
        var eml = await SendAndWaitForOutboxAsync("bob@partner.test", "crlf", "Line one.\nLine two.");
        var bytes = await File.ReadAllBytesAsync(eml);
        for (var i = 0; i < bytes.Length; i++)
            if (bytes[i] == '\n') Assert.True(i > 0 && bytes[i - 1] == '\r', $"bare LF at byte {i}");
    }
}
