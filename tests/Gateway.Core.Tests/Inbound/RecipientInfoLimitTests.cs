using System.Formats.Asn1;
using System.Text;
using Gateway.Inbound;

namespace Gateway.Tests.Inbound;

/// <summary>
/// An envelope naming more recipients than any real message is refused when the count passes the
/// limit, before the RecipientInfos are read: one KeyAgreeRecipientInfo can name a million keys in
/// 8 MB, and reading them all held hundreds of MiB for a message that was refused anyway.
/// </summary>
public sealed class RecipientInfoLimitTests
{
    private static readonly Asn1Tag Context0 = new(TagClass.ContextSpecific, 0);
    private static readonly Asn1Tag Context1 = new(TagClass.ContextSpecific, 1);

    /// <summary>EnvelopedData whose recipients are one KeyAgreeRecipientInfo with <paramref name="keys"/> RecipientEncryptedKeys, or that many KeyTransRecipientInfos.</summary>
    private static byte[] Envelope(int keys, bool keyAgreement, string contentCipher = "2.16.840.1.101.3.4.1.42")
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier("1.2.840.113549.1.7.3");
            using (writer.PushSequence(Context0))
            using (writer.PushSequence())
            {
                writer.WriteInteger(2);
                using (writer.PushSetOf())
                {
                    if (keyAgreement) KeyAgreement(writer, keys);
                    else for (var i = 0; i < keys; i++) KeyTransport(writer, i);
                }
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier("1.2.840.113549.1.7.1");
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(contentCipher);
                        writer.WriteOctetString(new byte[contentCipher.EndsWith(".7") ? 8 : 16]);
                    }
                    writer.WriteOctetString(new byte[16], Context0);
                }
            }
        }
        return writer.Encode();
    }

    private static void KeyAgreement(AsnWriter writer, int keys)
    {
        using (writer.PushSequence(Context1))
        {
            writer.WriteInteger(3);
            using (writer.PushSequence(Context0))
            using (writer.PushSequence(Context1))
            {
                using (writer.PushSequence()) writer.WriteObjectIdentifier("1.2.840.10045.2.1");
                var point = new byte[65];
                point[0] = 4;
                writer.WriteBitString(point);
            }
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.3.132.1.11.1");
                using (writer.PushSequence()) writer.WriteObjectIdentifier("2.16.840.1.101.3.4.1.45");
            }
            using (writer.PushSequence())
            {
                for (var i = 0; i < keys; i++)
                {
                    using (writer.PushSequence())
                    {
                        using (writer.PushSequence(Context0)) writer.WriteOctetString([]);
                        writer.WriteOctetString([]);
                    }
                }
            }
        }
    }

    private static void KeyTransport(AsnWriter writer, int serial)
    {
        using (writer.PushSequence())
        {
            writer.WriteInteger(2);
            writer.WriteOctetString([(byte)serial], Context0);
            using (writer.PushSequence()) writer.WriteObjectIdentifier("1.2.840.113549.1.1.1");
            writer.WriteOctetString([1]);
        }
    }

    [Theory]
    [InlineData(true, "2.16.840.1.101.3.4.1.42")] // read by hand
    [InlineData(true, "1.2.840.113549.3.7")] // key agreement with 3DES: EnvelopedCms reads it
    [InlineData(false, "2.16.840.1.101.3.4.1.42")] // key transport: EnvelopedCms
    public void EnvelopeWithMoreRecipientsThanTheLimit_IsRefused_WithoutReadingThemAll(bool keyAgreement, string contentCipher)
    {
        var der = Envelope(50_000, keyAgreement, contentCipher);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var (envelope, problem) = InboundEnvelope.Decode(der);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.Null(envelope);
        Assert.Equal($"more than the {InboundEnvelope.MaximumRecipientInfos} recipient infos looked at", problem);
        Assert.True(allocated < der.Length / 4, $"{allocated} bytes allocated to refuse {der.Length} bytes of DER");
    }

    [Fact]
    public void EnvelopeAtTheLimit_IsRead()
    {
        var (envelope, problem) = InboundEnvelope.Decode(Envelope(InboundEnvelope.MaximumRecipientInfos, keyAgreement: true));
        Assert.True(envelope is not null, problem);
        Assert.Equal(InboundEnvelope.MaximumRecipientInfos, envelope.RecipientCount);
    }

    [Fact]
    public void MessageWithTooManyRecipientInfos_PassesOnEncrypted_SayingWhy()
    {
        var message = Encoding.ASCII.GetBytes("From: <bob@partner.test>\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            Convert.ToBase64String(Envelope(InboundEnvelope.MaximumRecipientInfos + 1, keyAgreement: false), Base64FormattingOptions.InsertLineBreaks) + "\r\n");
        var result = EnvelopeOpener.Open(message, ["alice@example.test"], _ => [], "gw");
        Assert.Equal(DecryptionOutcome.Unreadable, result.Outcome);
        Assert.Same(message, result.Message);
        Assert.Equal($"more than the {InboundEnvelope.MaximumRecipientInfos} recipient infos looked at", result.Reason);
    }
}
