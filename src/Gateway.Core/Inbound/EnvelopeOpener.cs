using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Mail;
using MimeKit;
using MimeKit.Encodings;

namespace Gateway.Inbound;

/// <summary>
/// Decrypts an inbound S/MIME message (RFC 8551 application/pkcs7-mime enveloped-data, or
/// authEnveloped-data with AES-GCM) with the
/// keys the gateway holds for its internal users, so that they read encrypted mail without a key
/// on their desktop: the reverse of what the gateway does outbound.
/// <para>
/// Only for a message encrypted to every envelope recipient, each opened with that recipient's
/// own key to the same content: a recipient the sender did not encrypt for (a Bcc, an alias
/// expanded upstream, or a RecipientInfo forged to name them) must not get the plaintext. And, by
/// default, CBC content only when it is signed and its signature verifies: AES-CBC has no integrity,
/// and a decrypting gateway would otherwise deliver ciphertext bent by an attacker (EFAIL's CBC
/// gadgets) as trusted plaintext. AES-GCM content needs no signature for that: its tag fails on
/// any change. Anything else passes on encrypted, as it came.
/// </para>
/// <para>
/// The plaintext keeps the outer headers (From, Subject, Received, …); from the entity inside
/// only its Content-* headers are taken (an encrypted part must not add From or
/// Authentication-Results lines to the header block the inbound MTA checked), and its body byte
/// for byte, so a signature inside still verifies. <see cref="MarkerHeader"/> says it was
/// decrypted here. A Subject the sender protected inside (RFC 9788) replaces the outer one
/// (<see cref="ProtectedSubject"/>). <see cref="NotDecryptedHeader"/> tells the reader of a message passed on
/// encrypted why (<see cref="MarkedNotDecrypted"/>); <see cref="WithoutMarker"/> removes both from
/// every inbound message, so neither can be forged.
/// </para>
/// </summary>
public static class EnvelopeOpener
{
    public const string MarkerHeader = "X-Gateway-Decrypted";
    public const string NotDecryptedHeader = "X-Gateway-Not-Decrypted";

    /// <summary>The message without any <see cref="MarkerHeader"/> or <see cref="NotDecryptedHeader"/> line: the same array when it has none.</summary>
    public static byte[] WithoutMarker(byte[] raw)
    {
        var (fields, bodyStart, _) = TopLevelHeader(raw);
        var kept = fields.Where(f => !f.Is(MarkerHeader) && !f.Is(NotDecryptedHeader)).ToList();
        return kept.Count == fields.Count ? raw : Join(kept, "\r\n"u8, raw.AsSpan(bodyStart));
    }

    /// <summary>
    /// <paramref name="raw"/> with <see cref="NotDecryptedHeader"/> above its first header: only the
    /// reason's short name (the audit has the detail). The outer header is outside the CMS, so a
    /// signature inside still verifies; above the first line, it stays a header whatever follows.
    /// </summary>
    public static byte[] MarkedNotDecrypted(byte[] raw, string serverName, string reason)
    {
        var line = Encoding.ASCII.GetBytes($"{NotDecryptedHeader}: by {serverName}; reason={reason}\r\n");
        var marked = new byte[line.Length + raw.Length];
        line.CopyTo(marked, 0);
        raw.CopyTo(marked, line.Length);
        return marked;
    }

    /// <summary>The reason <see cref="MarkedNotDecrypted"/> gives for an outcome.</summary>
    public static string NotDecryptedReason(DecryptionOutcome outcome) => outcome switch
    {
        DecryptionOutcome.NotForOurKeys => "not-for-our-keys",
        DecryptionOutcome.NotSigned => "not-signed",
        _ => "unreadable",
    };

    /// <param name="raw">The message, <see cref="WithoutMarker"/> already applied.</param>
    /// <param name="keysFor">The certificates with private keys the gateway holds for an address, expired and replaced ones included (older mail was encrypted to them).</param>
    /// <param name="serverName">Named in <see cref="MarkerHeader"/>.</param>
    /// <param name="requireSignature">Decrypt only content that is signed, with a signature that verifies.</param>
    public static DecryptionResult Open(byte[] raw, IReadOnlyList<string> recipients, Func<string, IReadOnlyList<X509Certificate2>> keysFor, string serverName, bool requireSignature = true)
    {
        var (fields, bodyStart, headerWellFormed) = TopLevelHeader(raw);
        if (fields.LastOrDefault(f => f.Is("Content-Type")) is not { } typeField
            || !ContentType.TryParse(Encoding.ASCII.GetBytes(typeField.Value), out var type)
            || !(type.IsMimeType("application", "pkcs7-mime") || type.IsMimeType("application", "x-pkcs7-mime")))
            return new DecryptionResult(DecryptionOutcome.NotEncrypted, raw);
        // RFC 8551 §3.2.2: smime-type says what the CMS holds; older clients leave it out, and then
        // the CMS itself decides (Decode refuses signed-data as enveloped).
        var smimeType = type.Parameters["smime-type"] ?? string.Empty;
        if (smimeType.Length > 0 && !smimeType.Equals("enveloped-data", StringComparison.OrdinalIgnoreCase)
            && !smimeType.Equals("authEnveloped-data", StringComparison.OrdinalIgnoreCase))
            return new DecryptionResult(DecryptionOutcome.NotEncrypted, raw);
        // Postfix and mail clients end the header at the first line that is not a field: the
        // plaintext's MIME headers, written below it, would be body text to them.
        if (!headerWellFormed) return Unreadable(raw, "the message header has a line that is not a header field");

        var encoding = fields.LastOrDefault(f => f.Is("Content-Transfer-Encoding"))?.Value.Trim().ToLowerInvariant() ?? "7bit";
        var body = raw.AsSpan(bodyStart);
        byte[] encoded;
        if (encoding == "base64") encoded = DecodeBase64(body);
        else if (encoding is "binary" or "7bit" or "8bit") encoded = body.ToArray();
        else return Unreadable(raw, $"an enveloped-data body in Content-Transfer-Encoding {encoding}");

        var (envelope, problem) = InboundEnvelope.Decode(encoded);
        if (envelope is null) return Unreadable(raw, problem!);

        // Each recipient by its own key: one that is merely named (a forged RecipientInfo costs
        // nothing) opens nothing, and gets nothing.
        var openers = new List<(string Recipient, int Info, X509Certificate2 Key)>();
        var without = new List<string>();
        foreach (var recipient in recipients)
        {
            var match = keysFor(recipient).Where(MayDecrypt)
                .SelectMany(k => Enumerable.Range(0, envelope.RecipientCount).Where(i => envelope.Names(i, k)).Select(i => (Info: i, Key: k)))
                .FirstOrDefault();
            if (match.Key is null) without.Add(recipient);
            else openers.Add((recipient, match.Info, match.Key));
        }
        if (without.Count > 0 || openers.Count == 0)
        {
            return new DecryptionResult(DecryptionOutcome.NotForOurKeys, raw,
                Reason: $"encrypted to {envelope.RecipientCount} recipient key(s), none of them ours for {string.Join(", ", without)}: passed on encrypted");
        }

        var first = openers[0];
        var algorithms = $"encrypt:{envelope.ContentCipher} {envelope.KeyManagement(first.Info)}";
        byte[]? entity = null;
        foreach (var (recipient, info, key) in openers.DistinctBy(o => (o.Info, o.Key.Thumbprint)))
        {
            var (content, failure) = envelope.Open(info, key);
            if (content is null)
            {
                return new DecryptionResult(DecryptionOutcome.Unreadable, raw, key, algorithms,
                    $"the key of certificate {key.Thumbprint} ({recipient}) did not open it: {failure}");
            }
            if (entity is null) entity = content;
            else if (!entity.AsSpan().SequenceEqual(content))
                return new DecryptionResult(DecryptionOutcome.Unreadable, raw, key, algorithms, $"the key of {recipient} opens other content than the key of {first.Recipient}");
        }

        var inner = LineEnds.ToCrlf(entity!);
        var (entityFields, entityBodyStart, wellFormed) = HeaderFields(inner);
        if (!wellFormed) return new DecryptionResult(DecryptionOutcome.Unreadable, raw, first.Key, algorithms, "the decrypted content is not a MIME entity (no header block)");
        // GCM's tag already proves the content is what was encrypted; CBC proves nothing of the kind.
        if (requireSignature && !envelope.IsAuthenticated && !SignatureCheck.Verifies(inner))
        {
            return new DecryptionResult(DecryptionOutcome.NotSigned, raw, first.Key, algorithms,
                "the content is not signed, or its signature does not verify: unauthenticated CBC plaintext is not passed on (Harvest:DecryptUnsigned)");
        }

        var outer = fields.Where(f => !f.Is(MarkerHeader) && !f.Is("MIME-Version") && !f.IsContentHeader).ToList();
        if (ProtectedSubject.Of(inner) is { } subject && ShowProtectedSubject(outer, subject)) algorithms += " subject:protected";
        var marker = Encoding.ASCII.GetBytes(
            $"{MarkerHeader}: by {serverName}; certificate={first.Key.Thumbprint}; cipher={envelope.ContentCipher}\r\n\r\n");
        var output = new MemoryStream(inner.Length + bodyStart);
        foreach (var field in outer) output.Write(field.Message, field.Start, field.Length);
        output.Write("MIME-Version: 1.0\r\n"u8);
        foreach (var field in entityFields.Where(f => f.IsContentHeader)) output.Write(field.Message, field.Start, field.Length);
        output.Write(marker);
        output.Write(inner.AsSpan(entityBodyStart));
        return new DecryptionResult(DecryptionOutcome.Decrypted, output.ToArray(), first.Key, algorithms);
    }

    /// <summary>
    /// The Subject the sender carried inside in place of the outer ones, where the first of them was
    /// (see <see cref="ProtectedSubject.Shown"/>); false when it is left as it came.
    /// </summary>
    private static bool ShowProtectedSubject(List<HeaderField> outer, ProtectedSubject subject)
    {
        var first = outer.FindIndex(f => f.Is("Subject"));
        if (subject.Shown(first < 0 ? null : outer[first].Value.Trim()) is not { } shown) return false;
        // Latin-1 gives back the bytes the value was read as: 8-bit UTF-8 stays what it was.
        var line = Encoding.Latin1.GetBytes($"Subject: {shown}\r\n");
        outer.RemoveAll(f => f.Is("Subject"));
        outer.Insert(first < 0 ? outer.Count : first, new HeaderField(line, 0, line.Length));
        return true;
    }

    private static DecryptionResult Unreadable(byte[] raw, string reason) => new(DecryptionOutcome.Unreadable, raw, Reason: reason);

    private static byte[] DecodeBase64(ReadOnlySpan<byte> body)
    {
        var decoder = new Base64Decoder();
        var input = body.ToArray();
        var output = new byte[decoder.EstimateOutputLength(input.Length)];
        var length = decoder.Decode(input, 0, input.Length, output);
        return output.AsSpan(0, length).ToArray();
    }

    /// <summary>A key whose certificate limits its use to signing does not decrypt (RFC 8550 §4.4.2).</summary>
    private static bool MayDecrypt(X509Certificate2 key)
    {
        if (!key.HasPrivateKey) return false;
        var usage = key.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        return usage is null || (usage.KeyUsages & (X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyAgreement)) != 0;
    }

    /// <summary>
    /// The header fields of a header block, each with its continuation lines and CRLF; where the
    /// body starts (after the empty line); and whether every line was a header field.
    /// </summary>
    private static (List<HeaderField> Fields, int BodyStart, bool WellFormed) HeaderFields(byte[] message)
    {
        var fields = new List<HeaderField>();
        var wellFormed = true;
        var at = 0;
        while (at < message.Length)
        {
            var lineEnd = message.AsSpan(at).IndexOf("\r\n"u8);
            if (lineEnd == 0) return (fields, at + 2, wellFormed); // the empty line that ends the header block
            var end = lineEnd < 0 ? message.Length : at + lineEnd + 2;
            if (message[at] is (byte)' ' or (byte)'\t')
            {
                if (fields.Count == 0) wellFormed = false;
                else fields[^1] = fields[^1] with { Length = end - fields[^1].Start };
            }
            else
            {
                var field = new HeaderField(message, at, end - at);
                wellFormed &= field.Name is not null;
                fields.Add(field);
            }
            at = end;
        }
        return (fields, message.Length, false); // no empty line: no body, and not an entity either
    }

    private static byte[] Join(List<HeaderField> fields, ReadOnlySpan<byte> between, ReadOnlySpan<byte> rest)
    {
        var output = new MemoryStream();
        foreach (var field in fields) output.Write(field.Message, field.Start, field.Length);
        output.Write(between);
        output.Write(rest);
        return output.ToArray();
    }

    /// <summary>
    /// The top-level header fields, read from the header block alone made CRLF, where the
    /// body starts in <paramref name="raw"/>, and whether every line was a header field: every inbound message passes here, and its body is
    /// neither copied nor changed (a binary CMS body must not get CRs added to its LF bytes).
    /// </summary>
    private static (List<HeaderField> Fields, int BodyStart, bool WellFormed) TopLevelHeader(byte[] raw)
    {
        var at = 0;
        while (at < raw.Length)
        {
            var lineEnd = raw.AsSpan(at).IndexOf((byte)'\n');
            if (lineEnd < 0) break;
            if (lineEnd == 0 || (lineEnd == 1 && raw[at] == '\r'))
            {
                // The header block with its empty line, so that HeaderFields finds its end.
                var (fields, _, wellFormed) = HeaderFields(LineEnds.ToCrlf(raw[..(at + lineEnd + 1)]));
                return (fields, at + lineEnd + 1, wellFormed);
            }
            at += lineEnd + 1;
        }
        var (all, _, _) = HeaderFields(LineEnds.ToCrlf(raw)); // no empty line: all header, and no body
        return (all, raw.Length, false);
    }

    private sealed record HeaderField(byte[] Message, int Start, int Length)
    {
        /// <summary>The field name (RFC 5322 §3.6.8: printable ASCII but the colon; white space before the colon tolerated, as MimeKit does); null when the line is not a field.</summary>
        public string? Name
        {
            get
            {
                var line = Message.AsSpan(Start, Length);
                var colon = line.IndexOf((byte)':');
                if (colon <= 0) return null;
                var name = line[..colon].TrimEnd(" \t"u8);
                if (name.Length == 0 || name.IndexOfAnyExceptInRange((byte)33, (byte)126) >= 0) return null;
                return Encoding.ASCII.GetString(name);
            }
        }

        public string Value
        {
            get
            {
                var line = Message.AsSpan(Start, Length);
                // Latin-1: every byte one character, so an 8-bit value written back is the bytes it was.
                return Encoding.Latin1.GetString(line[(line.IndexOf((byte)':') + 1)..]).Replace("\r\n", "");
            }
        }

        public bool IsContentHeader => Name?.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) == true;

        public bool Is(string name) => string.Equals(Name, name, StringComparison.OrdinalIgnoreCase);
    }
}
