using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Inbound;
using Gateway.Policy;
using Gateway.Smime;
using Gateway.Testing.Pki;

namespace Gateway.Tests.Inbound;

/// <summary>
/// The hand-written CMS readers take input from anyone on the internet. Thousands of mutations
/// (a byte changed, the envelope cut short, bytes inserted) of real envelopes, of each kind, must
/// each give an outcome, never an exception; and with AES-GCM whatever is decrypted is exactly
/// what was sent. (With AES-CBC a changed ciphertext can decrypt to changed plaintext: that is why
/// CBC content is decrypted only when it is signed, unless Harvest:DecryptUnsigned says otherwise;
/// this test opens it unsigned to reach every path.) The mutations are seeded; the keys, IVs and
/// nonces are fresh each run, and a failure prints the envelope it came from.
/// </summary>
public sealed class EnvelopeOpenerFuzzTests(PkiFixture pki) : IClassFixture<PkiFixture>
{
    private const string Entity = "Content-Type: text/plain; charset=us-ascii\r\n\r\nThe figures.\r\n";

    public static TheoryData<string> Kinds => new() { "cbc-rsa", "gcm-rsa", "cbc-ecdh", "gcm-ecdh" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MutatedEnvelopes_AlwaysGiveAnOutcome_AndOnlyEverTheSentContent(string kind)
    {
        using var eve = pki.Pki.Issue("eve@example.test", new CertificateOptions { EcCurve = ECCurve.NamedCurves.nistP256 });
        var (recipient, key) = kind.EndsWith("ecdh", StringComparison.Ordinal) ? (eve.PublicCertificate, eve.Certificate) : (pki.Alice.PublicCertificate, pki.Alice.Certificate);
        var crypto = CryptoSettings.Default with { ContentEncryption = kind.StartsWith("gcm", StringComparison.Ordinal) ? ContentEncryption.Aes256Gcm : ContentEncryption.Aes256Cbc };
        using var output = new MemoryStream();
        if (crypto.IsAuthenticated) AuthEnvelopedDataWriter.Write(new MemoryStream(Encoding.ASCII.GetBytes(Entity)), [recipient, pki.Carol.PublicCertificate], crypto, output);
        else EnvelopedDataWriter.Write(new MemoryStream(Encoding.ASCII.GetBytes(Entity)), [recipient, pki.Carol.PublicCertificate], crypto, output);
        var der = output.ToArray();
        var type = crypto.IsAuthenticated ? "authEnveloped-data" : "enveloped-data";
        IReadOnlyList<X509Certificate2> Keys(string _) => [key];

        var random = new Random(20261127 + Array.IndexOf(["cbc-rsa", "gcm-rsa", "cbc-ecdh", "gcm-ecdh"], kind)); // the mutations repeat; the keys, IVs and nonces are fresh each run
        var outcomes = new Dictionary<DecryptionOutcome, int>();
        for (var round = 0; round < 3000; round++)
        {
            var mutated = Mutate(der, random);
            var message = Encoding.ASCII.GetBytes($"From: <bob@partner.test>\r\nMIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type={type}\r\n" +
                "Content-Transfer-Encoding: base64\r\n\r\n" + Convert.ToBase64String(mutated, Base64FormattingOptions.InsertLineBreaks) + "\r\n");

            DecryptionResult result;
            try
            {
                result = EnvelopeOpener.Open(message, ["eve@example.test"], Keys, "gw", requireSignature: false);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"round {round} ({kind}) threw {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(mutated)}");
            }
            outcomes[result.Outcome] = outcomes.GetValueOrDefault(result.Outcome) + 1;
            if (result.Outcome == DecryptionOutcome.Decrypted && crypto.IsAuthenticated)
            {
                var text = Encoding.ASCII.GetString(result.Message);
                Assert.True(text.Contains("\r\nContent-Type: text/plain; charset=us-ascii\r\n", StringComparison.Ordinal) && text.EndsWith("\r\n\r\nThe figures.\r\n", StringComparison.Ordinal),
                    $"round {round} ({kind}) opened to other content:\n{text}\n{Convert.ToHexString(mutated)}");
            }
            // CBC as the gateway opens it by default (a verifying inner signature required): never plaintext from this unsigned content.
            if (!crypto.IsAuthenticated && result.Outcome == DecryptionOutcome.Decrypted)
                Assert.NotEqual(DecryptionOutcome.Decrypted, EnvelopeOpener.Open(message, ["eve@example.test"], Keys, "gw").Outcome);
        }
        Assert.True(outcomes.Count > 1, string.Join(", ", outcomes)); // the mutations reached more than one path
    }

    private static byte[] Mutate(byte[] der, Random random)
    {
        var bytes = der.ToList();
        switch (random.Next(4))
        {
            case 0: // one byte changed, anywhere
                var at = random.Next(bytes.Count);
                bytes[at] ^= (byte)(1 << random.Next(8));
                break;
            case 1: // cut short
                var end = random.Next(bytes.Count);
                bytes.RemoveRange(end, bytes.Count - end);
                break;
            case 2: // bytes inserted
                var insert = new byte[random.Next(1, 6)];
                random.NextBytes(insert);
                bytes.InsertRange(random.Next(bytes.Count), insert);
                break;
            default: // a length byte made large
                var position = random.Next(bytes.Count);
                bytes[position] = (byte)(0x80 | random.Next(1, 5));
                break;
        }
        return [.. bytes];
    }
}
