using MimeKit;

namespace Gateway.Relay;

/// <summary>
/// A spooled message in the form MailKit sends, without parsing it: a message with no headers of
/// its own whose body (<see cref="RawBody"/>) writes the file's bytes exactly as they are.
/// Parsing every message for the relay and serialising it again (twice: once more to measure it
/// for SIZE) cost more CPU than the rest of the pass-through path; and bytes that are never
/// parsed cannot be re-encoded, so a signature made earlier stays valid by construction.
/// </summary>
internal static class RawMessage
{
    // Messages MimeKit builds itself are "strict" and always write a blank line and a MIME-Version
    // header before the body; a parsed one is "loose" and writes only what it holds.
    private static readonly byte[] Placeholder = "X-Placeholder: 1\r\n\r\n"u8.ToArray();

    /// <summary>The format to send with: the placeholder headers MimeKit gives the body are never written.</summary>
    public static FormatOptions Format(FormatOptions wire)
    {
        var format = wire.Clone();
        format.HiddenHeaders.Add(HeaderId.ContentType);
        format.HiddenHeaders.Add(HeaderId.ContentTransferEncoding);
        format.HiddenHeaders.Add(HeaderId.MimeVersion);
        return format;
    }

    public static MimeMessage Create(Stream content)
    {
        using var placeholder = new MemoryStream(Placeholder, writable: false);
        var message = MimeMessage.Load(placeholder);
        message.Headers.Clear();
        message.Body = new RawBody(content);
        return message;
    }
}
