using System.Text;
using MimeKit;
using MimeKit.Utils;

namespace Gateway.Policy;

/// <summary>
/// Removes the trigger marks from the top-level header block before a message leaves: the
/// trigger header field (always: it is an instruction to the gateway, whoever set it) and the
/// subject tag (when the sender may use triggers; for others it is just part of their subject).
/// Works on the raw bytes and keeps every other byte as it was, including the body, so a
/// signature the client made over the body stays valid.
/// </summary>
public static class TriggerStripper
{
    /// <summary>Where the body starts: the index after the empty line that ends the header block, or -1 when not (yet) seen.</summary>
    public static int BodyOffset(ReadOnlySpan<byte> message)
    {
        if (message.StartsWith("\r\n"u8)) return 2;
        if (message.StartsWith("\n"u8)) return 1;
        var crlf = message.IndexOf("\r\n\r\n"u8);
        var lf = message.IndexOf("\n\n"u8);
        if (crlf >= 0 && (lf < 0 || crlf + 2 <= lf)) return crlf + 4;
        return lf >= 0 ? lf + 2 : -1;
    }

    /// <returns>The new header block, or null when nothing needs to change.</returns>
    public static byte[]? Strip(ReadOnlySpan<byte> headerBlock, TriggerSettings triggers, bool removeSubjectTag)
    {
        var fields = SplitFields(headerBlock);
        var changed = false;
        var output = new MemoryStream(headerBlock.Length);
        foreach (var field in fields)
        {
            var name = NameOf(field);
            if (triggers.HeaderName is not null && string.Equals(name, triggers.HeaderName, StringComparison.OrdinalIgnoreCase))
            {
                changed = true;
                continue;
            }
            if (removeSubjectTag && triggers.SubjectTag is not null && string.Equals(name, "Subject", StringComparison.OrdinalIgnoreCase)
                && WithoutTag(field, triggers.SubjectTag) is { } replaced)
            {
                output.Write(replaced);
                changed = true;
                continue;
            }
            output.Write(field);
        }
        return changed ? output.ToArray() : null;
    }

    /// <summary>The value of every Subject field, decoded, read the way <see cref="Strip"/> reads the block.</summary>
    internal static IReadOnlyList<string> SubjectFields(ReadOnlySpan<byte> headerBlock) =>
        SplitFields(headerBlock)
            .Where(f => string.Equals(NameOf(f), "Subject", StringComparison.OrdinalIgnoreCase))
            .Select(f => Rfc2047.DecodeText(f.AsSpan(Array.IndexOf(f, (byte)':') + 1).ToArray()).Trim())
            .ToList();

    private static byte[]? WithoutTag(byte[] field, string tag)
    {
        // Latin-1 maps every byte to one char and back, so untouched bytes survive exactly.
        var text = Encoding.Latin1.GetString(field);
        var colon = text.IndexOf(':');
        var at = text.IndexOf(tag, colon + 1, StringComparison.OrdinalIgnoreCase);
        if (at >= 0 && tag.All(c => c < 128))
        {
            var start = at;
            var end = at + tag.Length;
            if (end < text.Length && text[end] == ' ') end++;
            else if (start > colon + 1 && text[start - 1] == ' ') start--;
            return Encoding.Latin1.GetBytes(text[..start] + text[end..]);
        }

        // An encoded subject (RFC 2047): decode, remove, and write the field anew.
        var newline = text.EndsWith("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var decoded = Rfc2047.DecodeText(field.AsSpan(colon + 1).ToArray()).Trim();
        var index = decoded.IndexOf(tag, StringComparison.OrdinalIgnoreCase);
        if (index < 0) return null;
        var subject = (decoded[..index] + decoded[(index + tag.Length)..]).Replace("  ", " ", StringComparison.Ordinal).Trim();
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = newline == "\r\n" ? NewLineFormat.Dos : NewLineFormat.Unix;
        var header = new Header(HeaderId.Subject, "");
        header.SetValue(format, Encoding.UTF8, subject);
        return [.. Encoding.ASCII.GetBytes(text[..(colon + 1)]), .. header.RawValue];
    }

    /// <summary>The header fields of the block, each with its folded lines and line end, as they are: together they are the block.</summary>
    internal static List<byte[]> SplitFields(ReadOnlySpan<byte> block)
    {
        var fields = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < block.Length; i++)
        {
            if (block[i] != (byte)'\n') continue;
            var next = i + 1;
            // A line starting with white space continues the field (folding).
            if (next < block.Length && (block[next] == (byte)' ' || block[next] == (byte)'\t')) continue;
            fields.Add(block[start..next].ToArray());
            start = next;
        }
        if (start < block.Length) fields.Add(block[start..].ToArray());
        return fields;
    }

    internal static string NameOf(byte[] field)
    {
        var colon = Array.IndexOf(field, (byte)':');
        return colon <= 0 ? "" : Encoding.ASCII.GetString(field, 0, colon).TrimEnd();
    }
}
