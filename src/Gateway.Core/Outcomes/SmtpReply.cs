namespace Gateway.Outcomes;

/// <summary>An SMTP reply with its RFC 3463 enhanced status code.</summary>
public sealed record SmtpReply(int Code, string EnhancedCode, string Text)
{
    public bool IsTemporary => Code is >= 400 and < 500;
    public bool IsPermanent => Code >= 500;

    /// <summary>Reads "550 5.1.1 text" (enhanced code optional) as an upstream or the spool recorded it.</summary>
    public static SmtpReply Parse(string reply)
    {
        var parts = reply.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        var code = parts.Length > 0 && int.TryParse(parts[0], out var c) && c is >= 200 and < 600 ? c : 451;
        var hasEnhanced = parts.Length > 1 && System.Text.RegularExpressions.Regex.IsMatch(parts[1], @"^[245]\.\d{1,3}\.\d{1,3}$");
        var enhanced = hasEnhanced ? parts[1] : $"{code / 100}.0.0";
        var text = hasEnhanced ? (parts.Length > 2 ? parts[2] : string.Empty) : string.Join(' ', parts.Skip(1));
        return new SmtpReply(code, enhanced, text);
    }

    public override string ToString() => $"{Code} {EnhancedCode} {Text}";
}
