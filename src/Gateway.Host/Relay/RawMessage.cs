using System.Runtime.CompilerServices;
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
        var message = Loose(ParserOptions.Default, [], RfcComplianceMode.Loose);
        message.Body = new RawBody(content);
        return message;
    }

    // Messages MimeKit builds itself are "strict" and always write a blank line and a MIME-Version
    // header before the body; what its parser builds is "loose" and writes only what it holds. The
    // parser's constructor, without the parser: parsing a placeholder message cost 4.9–6.4 µs a
    // message against 1.6–1.8 for this (a loop of 200,000), ~1 % of the pass-through path. Should a later MimeKit rename it, every relay attempt
    // fails with MissingMethodException (and defers), and RawBodyTests and RelayBytesTests fail first.
    [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
    private static extern MimeMessage Loose(ParserOptions options, IEnumerable<Header> headers, RfcComplianceMode mode);
}
