using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Cli;
using Gateway.Testing.Peers;
using Gateway.Testing.Pki;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Interop;

/// <summary>
/// A partner whose signed mail said (SMIMECapabilities) that their client reads AES-GCM gets
/// AuthEnvelopedData, and openssl opens it; a recipient of the same message whose client is not
/// known to read it (Bob: his certificate is in the folder, no capabilities) gets AES-CBC in a
/// copy of his own, which gpgsm 2.2, reading no GCM at all, opens. The rule can say never.
/// </summary>
public sealed class AuthenticatedEncryptionTests : IDisposable
{
    private const string Dan = "dan@gcm.test";
    private const string Aes256Gcm = "2.16.840.1.101.3.4.1.46";
    private const string Aes256Cbc = "2.16.840.1.101.3.4.1.42";
    private readonly GatewayWorld _world = new();
    private readonly TestIdentity _dan;
    private readonly TestIdentityFiles _danFiles;

    public AuthenticatedEncryptionTests()
    {
        _dan = _world.Pki.Issue(Dan);
        _danFiles = _dan.WriteTo(Path.Combine(_world.Root, "dan-keys"), GatewayWorld.Pkcs12Password);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dan.Dispose();
        _world.Dispose();
    }

    /// <summary>Dan's signed message, as a client that reads AES-256-GCM writes it (.NET's SignedCms, its own capabilities).</summary>
    private Task ImportDansSignatureAsync() => ImportSignatureAsync(_dan);

    private async Task ImportSignatureAsync(TestIdentity who)
    {
        var entity = Encoding.ASCII.GetBytes("Content-Type: text/plain; charset=us-ascii\r\n\r\nFrom Dan.\r\n");
        var cms = new SignedCms(new ContentInfo(entity), detached: true);
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, who.Certificate) { DigestAlgorithm = new Oid("2.16.840.1.101.3.4.2.1") };
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (var oid in new[] { Aes256Gcm, Aes256Cbc })
            {
                using (writer.PushSequence()) writer.WriteObjectIdentifier(oid);
            }
        }
        signer.SignedAttributes.Add(new AsnEncodedData(new Oid("1.2.840.113549.1.9.15"), writer.Encode()));
        cms.ComputeSignature(signer);
        var message = $"From: <{who.Address}>\r\nTo: <alice@example.test>\r\nSubject: signed\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b\"\r\n\r\n" +
            "--b\r\n" + Encoding.ASCII.GetString(entity) + "\r\n--b\r\n" +
            "Content-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            Convert.ToBase64String(cms.Encode(), Base64FormattingOptions.InsertLineBreaks) + "\r\n--b--\r\n";
        var file = Path.Combine(_world.Root, $"{who.Address}-signed.eml");
        await File.WriteAllTextAsync(file, message);
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.True(await CertsImportCommand.ExecuteAsync(config, [file], output, error) == 0, error.ToString());
        Assert.Contains("SMIMECapabilities stored", output.ToString());
    }

    [Fact]
    public async Task APartnerWhoseClientReadsGcm_GetsAuthEnvelopedData_AndAnotherRecipientOfTheSameMessage_GetsCbc()
    {
        await ImportDansSignatureAsync();
        await using var gateway = await RunningGateway.StartAsync(_world);
        var message = RunningGateway.NewMessage("alice@example.test", Dan, "gcm", "For Dan and Bob.");
        message.To.Add(MimeKit.MailboxAddress.Parse("bob@partner.test"));
        await gateway.SendAsync(message, "alice@example.test", Dan, "bob@partner.test");

        var toDan = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Dan));
        var toBob = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "bob@partner.test"));
        Assert.Contains("encrypt:aes-256-gcm", toDan.GetProperty("algorithms").GetString());
        Assert.Contains("encrypt:aes-256-cbc", toBob.GetProperty("algorithms").GetString());
        Assert.NotEqual(toDan.GetProperty("copy").GetInt32(), toBob.GetProperty("copy").GetInt32());

        var danCopy = await File.ReadAllTextAsync(_world.OutboxFileOf(toDan));
        Assert.Contains("smime-type=authEnveloped-data", danCopy);
        var opened = await OpenSslCms.DecryptAsync(_world.OutboxFileOf(toDan), _danFiles.CertificatePath, _danFiles.KeyPath);
        Assert.True(opened.Success, opened.Stderr);
        Assert.Contains("For Dan and Bob.", opened.ContentText);
        var printed = await OpenSslCms.CmsPrintAsync(_world.OutboxFileOf(toDan));
        Assert.Contains("id-smime-ct-authEnvelopedData", printed.Stdout);

        await using var gpgsm = await Gpgsm.CreateAsync(_world.CaCertificatePath);
        Assert.True((await gpgsm.ImportIdentityAsync(_world.Bob, GatewayWorld.Pkcs12Password)).Success);
        var byGpgsm = await gpgsm.DecryptAsync(_world.OutboxFileOf(toBob), GatewayWorld.Pkcs12Password);
        Assert.True(byGpgsm.Decrypted, byGpgsm.Status + byGpgsm.Stderr);
        Assert.Contains("For Dan and Bob.", byGpgsm.ContentText);

        using var explained = new StringWriter();
        using var error = new StringWriter();
        var code = await PolicyExplainCommand.ExecuteAsync(new PolicyExplainCommand.Request("alice@example.test", [Dan, "bob@partner.test"], null, [], false, null),
            explained, error, CancellationToken.None, c => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(c, _world.Settings));
        Assert.True(code == 0, error.ToString());
        Assert.Contains("contentEncryption aes256Gcm (every certificate's client puts AES-GCM first in its SMIMECapabilities)", explained.ToString());
        Assert.Contains("contentEncryption aes256Cbc, ", explained.ToString());
    }

    [Fact]
    public async Task ARuleSayingNever_KeepsCbc_ForAPartnerWhoseClientReadsGcm()
    {
        File.WriteAllText(_world.PolicyPath, """
            {
              "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse", "authenticatedEncryption": "never" }
            }
            """);
        await ImportDansSignatureAsync();
        await using var gateway = await RunningGateway.StartAsync(_world);
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", Dan, "cbc", "For Dan."), "alice@example.test", Dan);

        var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Dan));
        Assert.Contains("encrypt:aes-256-cbc", delivered.GetProperty("algorithms").GetString());
        Assert.Contains("smime-type=enveloped-data", await File.ReadAllTextAsync(_world.OutboxFileOf(delivered)));
        Assert.True((await OpenSslCms.DecryptAsync(_world.OutboxFileOf(delivered), _danFiles.CertificatePath, _danFiles.KeyPath)).Success);
    }

    /// <summary>
    /// Bob's certificate is in the folder (the first source, which knows no capabilities); his signed
    /// mail, harvested, said his client reads AES-GCM: the copy to him is AES-GCM all the same.
    /// </summary>
    [Fact]
    public async Task ACertificateFromTheFolder_GetsTheCapabilitiesItsOwnerSignedMailCameWith()
    {
        await ImportSignatureAsync(_world.Bob);
        await using var gateway = await RunningGateway.StartAsync(_world);
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "gcm from the folder", "For Bob."), "alice@example.test", "bob@partner.test");

        var decision = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "decision", "bob@partner.test"));
        Assert.StartsWith("local:", decision.GetProperty("certificateSource").GetString());
        var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "bob@partner.test"));
        Assert.Contains("encrypt:aes-256-gcm", delivered.GetProperty("algorithms").GetString());
        Assert.True((await OpenSslCms.DecryptAsync(_world.OutboxFileOf(delivered), _world.BobFiles.CertificatePath, _world.BobFiles.KeyPath)).Success);

        // certs lookup shows what the choice went by.
        using var output = new StringWriter();
        using var error = new StringWriter();
        var config = Gateway.Tests.Configuration.SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings);
        await CertsLookupCommand.ExecuteAsync(config, "bob@partner.test", json: false, output, error, default);
        Assert.Contains("its owner's client reads (SMIMECapabilities of their signed mail, in their order): aes-256-gcm, aes-256-cbc", output.ToString());
    }
}
