namespace Gateway.Mail;

public static class LineEnds
{
    /// <summary>
    /// The bytes with every bare LF made CRLF (RFC 5322's line end, and what S/MIME signs); the
    /// same array when there is no LF at all.
    /// </summary>
    public static byte[] ToCrlf(byte[] raw)
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
}
