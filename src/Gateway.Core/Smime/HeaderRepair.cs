namespace Gateway.Smime;

/// <summary>
/// Makes a header block parseable the way Postfix's cleanup reads one: the first line that is
/// neither a header field ("Name:") nor a folded continuation ends the headers, so a blank line is
/// put before it. Used when the parse found such a line; every byte of the message is kept.
/// </summary>
internal static class HeaderRepair
{
    public static MemoryStream Repair(Stream original)
    {
        using var buffer = new MemoryStream();
        original.CopyTo(buffer);
        var bytes = buffer.ToArray();
        var position = 0;
        while (position < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', position);
            var lineEnd = end < 0 ? bytes.Length : end + 1;
            var line = bytes.AsSpan(position, lineEnd - position);
            if (line.Length == 0 || line[0] is (byte)'\r' or (byte)'\n') return new MemoryStream(bytes, writable: false); // already separated
            if (line[0] is not ((byte)' ' or (byte)'\t') && !IsHeaderField(line)) break;
            position = lineEnd;
        }
        var repaired = new byte[bytes.Length + 2];
        bytes.AsSpan(0, position).CopyTo(repaired);
        repaired[position] = (byte)'\r';
        repaired[position + 1] = (byte)'\n';
        bytes.AsSpan(position).CopyTo(repaired.AsSpan(position + 2));
        return new MemoryStream(repaired, writable: false);
    }

    /// <summary>
    /// MimeKit keeps a line without a colon inside a header block as a "header" with that line as
    /// its name; written back it is no header at all, and the entity no longer parses. Such lines
    /// (truncated or garbled headers) are dropped from every entity before signing.
    /// </summary>
    public static void DropInvalidFields(MimeKit.MimeEntity entity)
    {
        foreach (var header in entity.Headers.Where(IsNoField).ToList()) entity.Headers.Remove(header);
        if (entity is MimeKit.Multipart multipart)
            foreach (var child in multipart) DropInvalidFields(child);
        else if (entity is MimeKit.MessagePart { Message.Body: { } inner })
            DropInvalidFields(inner);
    }

    /// <summary>A line MimeKit kept as a header although it is none (no "Name:" at its start).</summary>
    public static bool IsNoField(MimeKit.Header header) => !IsFieldName(header.Field);

    private static bool IsFieldName(string field) => field.Length > 0 && field.All(c => c is > ' ' and < (char)127 and not ':');

    /// <summary>
    /// RFC 5322 §2.2: a field name of printable characters except ':' followed by ':', white space
    /// before the colon allowed (§4.5.3's obsolete syntax, which Postfix reads as a header too).
    /// </summary>
    private static bool IsHeaderField(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        if (colon <= 0) return false;
        var name = line[..colon].TrimEnd(" \t"u8);
        if (name.IsEmpty) return false;
        foreach (var b in name)
            if (b is < 33 or > 126) return false;
        return true;
    }
}
