namespace Gateway.Relay;

/// <summary>
/// One reply of the upstream: its code and its text, the lines of a multi-line reply joined by a
/// space (a report's Diagnostic-Code and an audit line are one line each).
/// </summary>
internal readonly record struct UpstreamReply(int Code, string Text)
{
    public bool IsPositive => Code is >= 200 and < 300;

    /// <summary>354 to DATA, 334 to AUTH: go on.</summary>
    public bool IsIntermediate => Code is >= 300 and < 400;

    /// <summary>
    /// 421: the upstream is closing the connection, whatever the command was (RFC 5321 §3.8); 221
    /// is its goodbye, which some send unasked when they drop an idle session.
    /// </summary>
    public bool ClosesConnection => Code is 421 or 221;

    public override string ToString() => Text.Length == 0 ? Code.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Code} {Text}";
}
