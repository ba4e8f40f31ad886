using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using MimeKit;
using System.Security.Cryptography.X509Certificates;
using MimeKit.Cryptography;
using CmsRecipient = System.Security.Cryptography.Pkcs.CmsRecipient;
using CmsRecipientCollection = System.Security.Cryptography.Pkcs.CmsRecipientCollection;
using CmsSigner = System.Security.Cryptography.Pkcs.CmsSigner;
using SubjectIdentifierType = System.Security.Cryptography.Pkcs.SubjectIdentifierType;
using MimeKit.IO;
using MimeKit.IO.Filters;

namespace Gateway.Smime;

/// <summary>
/// Signs (detached multipart/signed) and then envelopes a message. MimeKit builds and parses the
/// MIME; the CMS is made by .NET's System.Security.Cryptography.Pkcs, whose RSA private-key
/// operation runs in OpenSSL (about 8 times faster here than BouncyCastle's managed RSA) and
/// whose encoder writes DER, which gpgsm requires. Top-level headers stay outside, as every
/// S/MIME client expects (RFC 8551 §3.1).
/// </summary>
public static class SmimeTransformer
{
    private static readonly FormatOptions Canonical = CreateCanonicalFormat();

    public static SmimeResult Transform(Stream original, SmimeRequest request, Stream output, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var message = MimeMessage.Load(original, persistent: true, cancellationToken);
        var body = message.Body ?? new TextPart("plain") { Text = string.Empty };

        if (IsEncrypted(body))
        {
            // The client encrypted already: a second envelope would hide nothing and break its reply path.
            original.Position = 0;
            original.CopyTo(output);
            return new SmimeResult(false, false, null, [], "none", "already encrypted by the client; passed on unchanged");
        }

        string? note = null;
        var sign = request.Sign;
        if (sign && IsSigned(body))
        {
            sign = false;
            note = "already signed by the client; not signed again";
        }

        var algorithms = new List<string>();
        if (sign)
        {
            body = SignDetached(body, request, now);
            var keyAlgorithm = request.Signer!.GetRSAPublicKey() is { } rsa ? Dispose(rsa, "RSA") : "ECDSA";
            algorithms.Add($"sign:{SmimeOids.Name(request.Crypto.Digest)}With{keyAlgorithm}");
        }
        if (request.Encrypt)
        {
            body = Envelope(body, request);
            algorithms.Add($"encrypt:{SmimeOids.Name(request.Crypto.ContentEncryption)}");
            algorithms.Add($"keyTransport:{SmimeOids.Name(request.Crypto.KeyTransport)}");
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

    private static string Dispose(IDisposable key, string name)
    {
        key.Dispose();
        return name;
    }

    private static bool IsSigned(MimeEntity body) =>
        body is MultipartSigned || body is ApplicationPkcs7Mime { SecureMimeType: SecureMimeType.SignedData };

    public static bool IsEncrypted(MimeEntity body) => body switch
    {
        ApplicationPkcs7Mime p7m => p7m.SecureMimeType is SecureMimeType.EnvelopedData or SecureMimeType.AuthEnvelopedData,
        MultipartEncrypted => true,
        _ => false,
    };

    private static MultipartSigned SignDetached(MimeEntity entity, SmimeRequest request, DateTimeOffset now)
    {
        // 7-bit safe before signing, so no relay on the way can re-encode what the signature covers.
        SigningPreparation.Prepare(entity);
        var (parsed, cleartext) = Canonicalise(entity);

        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, request.Signer!)
        {
            DigestAlgorithm = new Oid(SmimeOids.Digest(request.Crypto.Digest)),
            // EndCertOnly plus explicit intermediates: no X509Chain is built per message, and the root stays out.
            IncludeOption = X509IncludeOption.EndCertOnly,
        };
        foreach (var intermediate in request.SignerChain.Skip(1)) signer.Certificates.Add(intermediate);
        signer.SignedAttributes.Add(new Pkcs9SigningTime(now.UtcDateTime));
        signer.SignedAttributes.Add(SignedAttributes.SmimeCapabilities());
        signer.SignedAttributes.Add(SignedAttributes.EncryptionKeyPreference(request.Signer!));

        var cms = new SignedCms(new ContentInfo(cleartext), detached: true);
        cms.ComputeSignature(signer, silent: true);

        var signed = new MultipartSigned();
        signed.ContentType.Parameters["protocol"] = "application/pkcs7-signature";
        signed.ContentType.Parameters["micalg"] = SmimeOids.Micalg(request.Crypto.Digest);
        signed.Add(parsed);
        signed.Add(new ApplicationPkcs7Signature(new MemoryStream(cms.Encode(), writable: false)));
        return signed;
    }

    private static ApplicationPkcs7Mime Envelope(MimeEntity entity, SmimeRequest request)
    {
        byte[] content;
        using (var memory = new MemoryStream())
        {
            entity.WriteTo(Canonical, memory);
            content = memory.ToArray();
        }

        var padding = request.Crypto.KeyTransport == Policy.KeyTransport.RsaOaepSha256 ? RSAEncryptionPadding.OaepSHA256 : RSAEncryptionPadding.Pkcs1;
        var recipients = new CmsRecipientCollection();
        foreach (var certificate in request.Recipients)
            recipients.Add(new CmsRecipient(SubjectIdentifierType.IssuerAndSerialNumber, certificate, padding));

        var algorithm = new AlgorithmIdentifier(new Oid(SmimeOids.ContentEncryption(request.Crypto.ContentEncryption)));
        var enveloped = new EnvelopedCms(new ContentInfo(content), algorithm);
        enveloped.Encrypt(recipients);
        CryptographicOperations.ZeroMemory(content);
        return new ApplicationPkcs7Mime(SecureMimeType.EnvelopedData, new MemoryStream(enveloped.Encode(), writable: false));
    }

    /// <summary>
    /// Writes the entity the way RFC 8551 §3.1.1 canonicalises it (CRLF line ends) and parses it
    /// back, so the part we send is byte for byte what we signed.
    /// </summary>
    private static (MimeEntity Parsed, byte[] Cleartext) Canonicalise(MimeEntity entity)
    {
        using var memory = new MemoryStream();
        using (var filtered = new FilteredStream(memory))
        {
            filtered.Add(new Unix2DosFilter());
            entity.WriteTo(Canonical, filtered);
            filtered.Flush();
        }
        memory.Position = 0;
        var parsed = new MimeParser(memory, MimeFormat.Entity, persistent: false).ParseEntity();
        return (parsed, memory.ToArray());
    }

    private static FormatOptions CreateCanonicalFormat()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.International = false;
        return options;
    }
}
