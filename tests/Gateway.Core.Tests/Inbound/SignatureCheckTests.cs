using System.Formats.Asn1;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Certificates;
using Gateway.Inbound;

namespace Gateway.Tests.Inbound;

/// <summary>
/// The signature check decrypted CBC content must pass: it verifies what a mail client signs, and
/// what no client writes (a SignerInfo repeated thousands of times, each one a hash of the whole
/// content) is not verified at all.
/// </summary>
public sealed class SignatureCheckTests(PkiFixture pki) : IClassFixture<PkiFixture>
{
    private const string Part = "Content-Type: text/plain; charset=us-ascii\r\n\r\nSigned and sealed.\r\n";

    private static byte[] Entity(byte[] signature) => Encoding.ASCII.GetBytes(
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b1\"\r\n\r\n" +
        "--b1\r\n" + Part + "\r\n--b1\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
        Convert.ToBase64String(signature, Base64FormattingOptions.InsertLineBreaks) + "\r\n\r\n--b1--\r\n");

    private SignedCms Signed(params X509Certificate2[] signers)
    {
        var cms = new SignedCms(new ContentInfo(Encoding.ASCII.GetBytes(Part)), detached: true);
        foreach (var signer in signers) cms.ComputeSignature(new CmsSigner(signer));
        return cms;
    }

    /// <summary>The signed-data with its one SignerInfo repeated <paramref name="times"/> times in the SET: each copy verifies.</summary>
    private static byte[] RepeatSigner(byte[] signedData, int times)
    {
        var outer = new AsnReader(signedData, AsnEncodingRules.BER).ReadSequence();
        var contentType = outer.ReadObjectIdentifier();
        var data = outer.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence();
        var pieces = new List<ReadOnlyMemory<byte>>();
        while (data.HasData) pieces.Add(data.ReadEncodedValue());
        var signerInfo = new AsnReader(pieces[^1], AsnEncodingRules.BER).ReadSetOf().ReadEncodedValue();
        var writer = new AsnWriter(AsnEncodingRules.BER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(contentType);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
            using (writer.PushSequence())
            {
                foreach (var piece in pieces.SkipLast(1)) writer.WriteEncodedValue(piece.Span);
                using (writer.PushSetOf())
                    for (var i = 0; i < times; i++) writer.WriteEncodedValue(signerInfo.Span);
            }
        }
        return writer.Encode();
    }

    [Fact]
    public void OneSigner_OrTwo_Verifies()
    {
        Assert.True(SignatureCheck.Verifies(Entity(Signed(pki.Bob.Certificate).Encode())));
        Assert.True(SignatureCheck.Verifies(Entity(Signed(pki.Bob.Certificate, pki.Carol.Certificate).Encode())));
    }

    [Fact]
    public void MoreSignerInfosThanAnyClientWrites_AreNotVerified_EvenWhenEachVerifies()
    {
        var repeated = RepeatSigner(Signed(pki.Bob.Certificate).Encode(), SignerInfoCount.MaximumSigners + 1);
        var check = new SignedCms(new ContentInfo(Encoding.ASCII.GetBytes(Part)), detached: true);
        check.Decode(repeated);
        check.CheckSignature(verifySignatureOnly: true); // every copy is a good signature...

        Assert.False(SignatureCheck.Verifies(Entity(repeated))); // ...but not one of them is hashed over the content
        Assert.True(SignatureCheck.Verifies(Entity(RepeatSigner(Signed(pki.Bob.Certificate).Encode(), SignerInfoCount.MaximumSigners))));
    }

    [Fact]
    public void MoreCounterSignaturesThanAnyClientWrites_AreNotVerified()
    {
        var cms = Signed(pki.Bob.Certificate);
        for (var i = 0; i < SignerInfoCount.MaximumCounterSigners + 1; i++)
            cms.SignerInfos[0].ComputeCounterSignature(new CmsSigner(pki.Carol.Certificate));
        Assert.False(SignatureCheck.Verifies(Entity(cms.Encode())));

        var few = Signed(pki.Bob.Certificate);
        few.SignerInfos[0].ComputeCounterSignature(new CmsSigner(pki.Carol.Certificate));
        Assert.True(SignatureCheck.Verifies(Entity(few.Encode())));
    }
}
