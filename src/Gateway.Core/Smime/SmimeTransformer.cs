using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using MimeKit;
using System.Security.Cryptography.X509Certificates;
using MimeKit.Cryptography;
using CmsSigner = System.Security.Cryptography.Pkcs.CmsSigner;
using SubjectIdentifierType = System.Security.Cryptography.Pkcs.SubjectIdentifierType;

namespace Gateway.Smime;

/// <summary>
/// Signs (detached multipart/signed, or opaque signed-data when policy asks) and then envelopes a message. MimeKit parses the
/// message and writes its canonical form once; the signed part and the S/MIME parts are then
/// written from bytes (<see cref="CanonicalEntity"/>, <see cref="SignaturePart"/>, <see cref="Pkcs7MimePart"/>),
/// not parsed and re-written. The RSA private-key operation runs in OpenSSL through .NET (about
/// 8 times faster here than BouncyCastle's managed RSA); the detached PKCS#1 signature's DER is
/// written by <see cref="DetachedSignatureWriter"/>, PSS, ECDSA and opaque ones by SignedCms (DER
/// either way, which gpgsm requires); the envelope by <see cref="EnvelopedDataWriter"/>, as a
/// stream, with .NET's RSA and AES. Top-level headers stay outside, as every S/MIME client
/// expects (RFC 8551 §3.1); with header protection (policy, RFC 9788) a copy of them goes inside
/// too (<see cref="InjectedHeaders"/>).
/// </summary>
public static class SmimeTransformer
{
    internal static readonly FormatOptions Canonical = CreateCanonicalFormat();

    public static SmimeResult Transform(Stream original, SmimeRequest request, Stream output, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (message, repairNote) = Load(original, cancellationToken);
        var size = original.CanSeek ? original.Length : 0;
        using var scratch = new ScratchStreams(request.Scratch);
        var body = message.Body ?? new TextPart("plain") { Text = string.Empty };
        // A body without a Content-Type of its own (plain RFC 5322 mail) would be written with no header
        // block at all, and a first line that looks like "Name:" would then be read back as a header.
        if (!body.Headers.Contains(HeaderId.ContentType)) body.Headers.Add(HeaderId.ContentType, body.ContentType.MimeType);
        HeaderRepair.DropInvalidFields(body);

        // Fail closed at the last moment: a certificate that expired since the plan was made must not be used.
        foreach (var recipient in request.Recipients)
        {
            // Only expiry can happen between plan and send: time moves forward, never back into NotBefore.
            if (now.UtcDateTime > recipient.NotAfter.ToUniversalTime())
                throw new CertificateNoLongerValidException(recipient.Thumbprint, now);
        }

        if (ClientEncryption.IsEncrypted(body))
        {
            // The client encrypted already: a second envelope would hide nothing and break its reply path.
            original.Position = 0;
            original.CopyTo(output);
            return new SmimeResult(false, false, null, [], "none", "already encrypted by the client; passed on unchanged");
        }

        var note = repairNote;
        var sign = request.Sign;
        var protectHeaders = request.Crypto.HeaderProtection != Policy.HeaderProtection.None;
        var clientSigned = (sign || protectHeaders) && ClientSignature.IsSmimeSigned(body);
        if (sign && clientSigned)
        {
            sign = false;
            note = "already signed by the client; not signed again";
        }
        else if (sign && LooksSigned(body))
        {
            note = Join(note, "the client's signature is no valid S/MIME signature; signed around it");
        }

        var algorithms = new List<string>();
        if (protectHeaders && clientSigned)
        {
            // The fields would belong inside the client's signature, which nothing may change.
            note = Join(note, "header protection not applied: the client's signature covers the part it goes in; the Subject stays outside");
        }
        else if (protectHeaders && (sign || request.Encrypt))
        {
            var protection = InjectedHeaders.Apply(message, body, request.Encrypt, request.Crypto.HeaderProtection);
            if (protection.Protected) algorithms.Add("headers:protected");
            if (protection.SubjectHidden) algorithms.Add("subject:hidden");
            if (protection.Note is { } protectionNote) note = Join(note, protectionNote);
        }
        if (sign)
        {
            body = request.Crypto.SignatureForm == Policy.SignatureForm.Opaque
                ? CmsSigning.SignOpaque(body, request, now, scratch, size)
                : CmsSigning.SignDetached(body, request, now, scratch, size);
            var keyAlgorithm = SmimeOids.HasRsaKey(request.Signer!)
                ? request.Crypto.SignaturePadding == Policy.SignaturePadding.Pss ? "RSA-PSS" : "RSA"
                : "ECDSA";
            algorithms.Add($"sign:{SmimeOids.Name(request.Crypto.Digest)}With{keyAlgorithm}");
            if (request.Crypto.SignatureForm == Policy.SignatureForm.Opaque) algorithms.Add("signature:opaque");
        }
        if (request.Encrypt)
        {
            body = Envelope(body, request, scratch, size);
            algorithms.Add($"encrypt:{SmimeOids.Name(request.Crypto.ContentEncryption)}");
            if (request.Recipients.Any(c => !SmimeOids.HasEcKey(c))) algorithms.Add($"keyTransport:{SmimeOids.Name(request.Crypto.KeyTransport)}");
            algorithms.AddRange(request.Recipients.Where(SmimeOids.HasEcKey).Select(EcdhRecipientInfo.NameFor).Distinct());
        }

        message.Body = body;
        // An S/MIME message is a MIME message: clients (and gpgsm's MIME parsers) need the version header.
        if (!message.Headers.Contains(HeaderId.MimeVersion)) message.Headers.Add(HeaderId.MimeVersion, "1.0");
        message.WriteTo(Canonical, output, cancellationToken);
        return new SmimeResult(
            sign,
            request.Encrypt,
            sign ? request.Signer!.Thumbprint : null,
            request.Recipients.Select(c => c.Thumbprint).ToList(),
            algorithms.Count == 0 ? "none" : string.Join(' ', algorithms),
            note);
    }

    /// <summary>Labelled signed (PGP/MIME, a broken or fake S/MIME signature): said in the audit, since the recipient sees two signatures or one that fails.</summary>
    private static bool LooksSigned(MimeEntity body) =>
        body is MultipartSigned || body is ApplicationPkcs7Mime { SecureMimeType: SecureMimeType.SignedData };

    private static string Join(string? first, string second) => first is null ? second : $"{first}; {second}";

    /// <summary>
    /// MimeKit refuses a header block whose first line is no header field, but keeps a later such
    /// line as a "header" and writes it back as it was: above the envelope, in clear, where every
    /// MTA after us reads it as the start of the body. Either way the block is repaired the way
    /// Postfix reads it, so that line and what follows it travel inside the envelope.
    /// </summary>
    private static (MimeMessage Message, string? Note) Load(Stream original, CancellationToken cancellationToken)
    {
        try
        {
            var message = MimeMessage.Load(original, persistent: true, cancellationToken);
            if (!message.Headers.Any(HeaderRepair.IsNoField)) return (message, null);
        }
        catch (FormatException)
        {
        }
        original.Position = 0;
        var repaired = MimeMessage.Load(HeaderRepair.Repair(original), cancellationToken);
        // Fail closed: a block the repair could not make whole is refused, never sent half outside.
        if (repaired.Headers.Any(HeaderRepair.IsNoField)) throw new FormatException("the header block could not be repaired: a line in it is no header field");
        return (repaired, "header block repaired: a line that is not a header field ended the headers, as Postfix reads it");
    }

    private static ApplicationPkcs7Mime Envelope(MimeEntity entity, SmimeRequest request, ScratchStreams scratch, long size)
    {
        var plaintext = scratch.Create(size);
        entity.WriteTo(Canonical, plaintext);
        plaintext.Position = 0;
        var envelope = scratch.Create(size);
        if (request.Crypto.IsAuthenticated)
        {
            AuthEnvelopedDataWriter.Write(plaintext, request.Recipients, request.Crypto, envelope);
            envelope.Position = 0;
            return Pkcs7MimePart.Create(SecureMimeType.AuthEnvelopedData, envelope);
        }
        EnvelopedDataWriter.Write(plaintext, request.Recipients, request.Crypto, envelope);
        envelope.Position = 0;
        return new Pkcs7MimePart(SecureMimeType.EnvelopedData, envelope);
    }

    /// <summary>
    /// Writes the entity the way RFC 8551 §3.1.1 canonicalises it (CRLF line ends); the part we
    /// send is those bytes as they are, so it is byte for byte what we signed. They are kept in a
    /// scratch copy, released (and zeroed) with the others.
    /// </summary>
    internal static CanonicalEntity Canonicalise(MimeEntity entity, ScratchStreams scratch, long size)
    {
        var canonical = scratch.Create(size);
        using (var crlf = new CrlfStream(canonical))
        {
            CanonicalWriter.Write(entity, Canonical, crlf);
            crlf.Flush();
        }
        return new CanonicalEntity(new ContentType(entity.ContentType.MediaType, entity.ContentType.MediaSubtype), canonical);
    }

    private static FormatOptions CreateCanonicalFormat()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.International = false;
        return options;
    }
}
