using System.Text;
using MimeKit;

namespace Gateway.Policy;

/// <summary>
/// What policy may look at besides the envelope: the subject and the top-level header fields,
/// read once per message from the header block alone (never the body).
/// </summary>
public sealed record MessageFacts(string? Subject, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public static MessageFacts Empty { get; } = new(null, []);

    /// <summary>The header block the facts were read from, for <see cref="SubjectFields"/>.</summary>
    private byte[] _block = [];

    private IReadOnlyList<string>? _subjectFields;

    /// <summary>
    /// Every Subject field as <see cref="TriggerStripper"/> reads the raw block (decoded), also a
    /// second one and those after a line that is not a header field, where MimeKit stops: a tag the
    /// stripper removes must also have triggered. Read when first asked (only a subject trigger
    /// asks), not for every message.
    /// </summary>
    public IReadOnlyList<string> SubjectFields => _subjectFields ??= _block.Length == 0 ? [] : TriggerStripper.SubjectFields(_block);

    /// <summary>Parses a header block (the bytes before the first empty line); a broken block gives what could be read.</summary>
    public static MessageFacts Parse(ReadOnlySpan<byte> headerBlock)
    {
        var block = headerBlock.ToArray();
        try
        {
            using var stream = new MemoryStream(block, writable: false);
            var headers = HeaderList.Load(stream);
            return new MessageFacts(
                headers[HeaderId.Subject],
                headers.Select(h => new KeyValuePair<string, string>(h.Field, h.Value.Trim())).ToList())
            { _block = block };
        }
        catch (FormatException)
        {
            return Empty with { _block = block };
        }
    }

    /// <summary>Facts from header lines as an admin types them ("Name: value"), for <c>policy explain</c> and tests.</summary>
    public static MessageFacts From(string? subject, IEnumerable<string> headerLines)
    {
        var text = new StringBuilder();
        if (subject is not null) text.Append("Subject: ").Append(subject).Append("\r\n");
        foreach (var line in headerLines) text.Append(line).Append("\r\n");
        text.Append("\r\n");
        var facts = Parse(Encoding.UTF8.GetBytes(text.ToString()));
        return facts with { Subject = subject };
    }

    /// <summary>
    /// The mailboxes the To and Cc fields name, as lookup keys (<see cref="Mail.MailAddress.LookupKey"/>):
    /// what every recipient of the message can see. A field that does not parse names nobody, so
    /// its recipients count as unnamed: an extra copy, never a recipient shown to the others.
    /// </summary>
    public IReadOnlySet<string> NamedRecipients()
    {
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (field, value) in Headers)
        {
            if (!field.Equals("To", StringComparison.OrdinalIgnoreCase) && !field.Equals("Cc", StringComparison.OrdinalIgnoreCase)) continue;
            if (!InternetAddressList.TryParse(value, out var addresses)) continue;
            foreach (var mailbox in addresses.Mailboxes) named.Add(Mail.MailAddress.LookupKey(mailbox.Address));
        }
        return named;
    }

    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}
