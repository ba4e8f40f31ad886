namespace Gateway.Outcomes;

/// <summary>An SMTP reply with its RFC 3463 enhanced status code.</summary>
public sealed record SmtpReply(int Code, string EnhancedCode, string Text)
{
    public bool IsTemporary => Code is >= 400 and < 500;
    public bool IsPermanent => Code >= 500;

    public override string ToString() => $"{Code} {EnhancedCode} {Text}";
}
