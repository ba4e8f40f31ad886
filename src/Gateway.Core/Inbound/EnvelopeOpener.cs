using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using MimeKit;

namespace Gateway.Inbound;

/// <summary>
/// Decrypts an inbound S/MIME message (RFC 8551 application/pkcs7-mime enveloped-data) with the
/// keys the gateway holds for its internal users, so that they read encrypted mail without a key
/// on their desktop: the reverse of what the gateway does outbound.
/// <para>
/// Only when every envelope recipient has a key the message was encrypted to: a recipient the
/// sender did not encrypt for (a Bcc, an alias expanded upstream) must not get the plaintext, so
/// such a message passes on encrypted, as it came. The plaintext keeps the outer headers (From,
/// Subject, Received, …); the MIME entity inside replaces the envelope's Content-* headers and
/// body, byte for byte, so a signature inside still verifies. <see cref="MarkerHeader"/> says it
/// was decrypted here, and is removed from every inbound message, so a sender cannot forge it.
/// </para>
/// </summary>
public static class EnvelopeOpener
{
    public const string MarkerHeader = "X-Gateway-Decrypted";

    private const string DataOid = "1.2.840.113549.1.7.1";

    // What describes the envelope itself; the decrypted entity brings its own (MIME-Version is decided apart).
    private static readonly string[] EntityHeaders = ["Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Content-Description", "Content-ID", "Content-MD5"];

    /// <param name="keysFor">The certificates with private keys the gateway holds for an address, expired and replaced ones included (older mail was encrypted to them).</param>
    /// <param name="serverName">Named in <see cref="MarkerHeader"/>.</param>
    public static DecryptionResult Open(byte[] raw, IReadOnlyList<string> recipients, Func<string, IReadOnlyList<X509Certificate2>> keysFor, string serverName)
    {
        var canonical = Crlf(raw);
        var (fields, bodyStart) = HeaderFields(canonical);
        var unmarked = fields.Where(f => !f.Is(MarkerHeader)).ToList();
        var asReceived = unmarked.Count == fields.Count ? raw : Join(unmarked, "\r\n"u8, canonical.AsSpan(bodyStart));

        MimeMessage message;
        try
        {
            message = MimeMessage.Load(new MemoryStream(canonical, writable: false));
        }
        catch (FormatException)
        {
            return new DecryptionResult(DecryptionOutcome.NotEncrypted, asReceived);
        }
        if (message.Body is not MimePart { Content: not null } part || !IsEnvelopedData(part.ContentType))
            return new DecryptionResult(DecryptionOutcome.NotEncrypted, asReceived);

        var cms = new EnvelopedCms();
        try
        {
            using var encoded = new MemoryStream();
            part.Content.DecodeTo(encoded);
            cms.Decode(encoded.ToArray());
        }
        catch (CryptographicException e)
        {
            return new DecryptionResult(DecryptionOutcome.Unreadable, asReceived, Reason: $"not readable CMS enveloped-data: {e.Message.TrimEnd('.')}");
        }

        var infos = cms.RecipientInfos.Cast<RecipientInfo>().ToList();
        (RecipientInfo Info, X509Certificate2 Key)? opener = null;
        var without = new List<string>();
        foreach (var recipient in recipients)
        {
            var match = keysFor(recipient).Where(k => k.HasPrivateKey)
                .SelectMany(k => infos.Where(i => Identifies(i.RecipientIdentifier, k)).Select(i => (Info: i, Key: k)))
                .FirstOrDefault();
            if (match.Key is null) without.Add(recipient);
            else opener ??= match;
        }
        if (without.Count > 0 || opener is not { } chosen)
        {
            return new DecryptionResult(DecryptionOutcome.NotForOurKeys, asReceived,
                Reason: $"encrypted to {infos.Count} recipient key(s), none of them ours for {string.Join(", ", without)}: passed on encrypted");
        }

        var algorithms = $"encrypt:{AlgorithmName(cms.ContentEncryptionAlgorithm.Oid)} keyTransport:{AlgorithmName(chosen.Info.KeyEncryptionAlgorithm.Oid)}";
        try
        {
            cms.Decrypt(chosen.Info, new X509Certificate2Collection(chosen.Key));
        }
        catch (CryptographicException e)
        {
            return new DecryptionResult(DecryptionOutcome.Unreadable, asReceived, chosen.Key, algorithms,
                $"the key of certificate {chosen.Key.Thumbprint} did not open it: {e.Message.TrimEnd('.')}");
        }
        if (cms.ContentInfo.ContentType.Value != DataOid)
        {
            return new DecryptionResult(DecryptionOutcome.Unreadable, asReceived, chosen.Key, algorithms,
                $"the decrypted content is {cms.ContentInfo.ContentType.Value}, not MIME data");
        }

        var entity = Crlf(cms.ContentInfo.Content);
        // One MIME-Version: the entity's when it has one (a signed entity often does), else ours.
        var outer = unmarked.Where(f => !EntityHeaders.Any(f.Is) && !f.Is("MIME-Version")).ToList();
        var mimeVersion = HeaderFields(entity).Fields.Any(f => f.Is("MIME-Version")) ? "" : "MIME-Version: 1.0\r\n";
        var added = Encoding.ASCII.GetBytes($"{mimeVersion}{MarkerHeader}: by {serverName}; certificate={chosen.Key.Thumbprint}\r\n");
        // The entity's own header lines follow the outer ones directly: one header block, then its body.
        return new DecryptionResult(DecryptionOutcome.Decrypted, Join(outer, added, entity), chosen.Key, algorithms);
    }

    private static bool IsEnvelopedData(ContentType type)
    {
        if (!type.IsMimeType("application", "pkcs7-mime") && !type.IsMimeType("application", "x-pkcs7-mime")) return false;
        var smimeType = type.Parameters["smime-type"];
        // RFC 8551 §3.2.2: smime-type says what the CMS holds; older clients leave it out, and
        // then the CMS itself decides (Decode refuses signed-data as enveloped).
        return string.IsNullOrEmpty(smimeType) || string.Equals(smimeType, "enveloped-data", StringComparison.OrdinalIgnoreCase)
               || string.Equals(smimeType, "authEnveloped-data", StringComparison.OrdinalIgnoreCase);
    }

    private static bool Identifies(SubjectIdentifier identifier, X509Certificate2 certificate) => identifier.Type switch
    {
        SubjectIdentifierType.IssuerAndSerialNumber => identifier.Value is X509IssuerSerial issuerSerial
            && string.Equals(issuerSerial.SerialNumber, certificate.SerialNumber, StringComparison.OrdinalIgnoreCase)
            && issuerSerial.IssuerName == certificate.IssuerName.Name,
        SubjectIdentifierType.SubjectKeyIdentifier => identifier.Value is string keyIdentifier
            && certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Any(e => string.Equals(e.SubjectKeyIdentifier, keyIdentifier, StringComparison.OrdinalIgnoreCase)),
        _ => false,
    };

    private static string AlgorithmName(Oid oid) => oid.Value switch
    {
        "2.16.840.1.101.3.4.1.2" => "aes-128-cbc",
        "2.16.840.1.101.3.4.1.22" => "aes-192-cbc",
        "2.16.840.1.101.3.4.1.42" => "aes-256-cbc",
        "1.2.840.113549.3.7" => "des-ede3-cbc",
        "1.2.840.113549.3.2" => "rc2-cbc",
        "1.2.840.113549.1.1.1" => "rsaes-pkcs1-v1_5",
        "1.2.840.113549.1.1.7" => "rsaes-oaep",
        _ => oid.Value ?? "unknown",
    };

    /// <summary>The header fields of the top-level header block, each with its continuation lines and CRLF, and where the body starts.</summary>
    private static (List<HeaderField> Fields, int BodyStart) HeaderFields(byte[] message)
    {
        var fields = new List<HeaderField>();
        var at = 0;
        while (at < message.Length)
        {
            var lineEnd = message.AsSpan(at).IndexOf("\r\n"u8);
            if (lineEnd == 0) return (fields, at + 2); // the empty line that ends the header block
            var end = lineEnd < 0 ? message.Length : at + lineEnd + 2;
            if (fields.Count > 0 && message[at] is (byte)' ' or (byte)'\t')
            {
                var last = fields[^1];
                fields[^1] = last with { Length = end - last.Start };
            }
            else fields.Add(new HeaderField(message, at, end - at));
            at = end;
        }
        return (fields, message.Length);
    }

    private static byte[] Join(List<HeaderField> fields, ReadOnlySpan<byte> between, ReadOnlySpan<byte> rest)
    {
        var output = new MemoryStream();
        foreach (var field in fields) output.Write(field.Message, field.Start, field.Length);
        output.Write(between);
        output.Write(rest);
        return output.ToArray();
    }

    private static byte[] Crlf(byte[] raw)
    {
        if (raw.AsSpan().IndexOf((byte)'\n') < 0) return raw;
        var output = new MemoryStream(raw.Length + raw.Length / 50);
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == (byte)'\n' && (i == 0 || raw[i - 1] != (byte)'\r')) output.WriteByte((byte)'\r');
            output.WriteByte(raw[i]);
        }
        return output.ToArray();
    }

    private sealed record HeaderField(byte[] Message, int Start, int Length)
    {
        public bool Is(string name)
        {
            var line = Message.AsSpan(Start, Length);
            var colon = line.IndexOf((byte)':');
            return colon == name.Length && Encoding.ASCII.GetString(line[..colon]).Equals(name, StringComparison.OrdinalIgnoreCase);
        }
    }
}
