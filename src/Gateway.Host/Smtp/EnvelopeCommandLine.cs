namespace Gateway.Smtp;

/// <summary>The parameters of a MAIL or RCPT command line: what follows the path, as keyword and value.</summary>
internal static class EnvelopeCommandLine
{
    /// <summary>What separates a command's words for SmtpServer's tokenizer: the space, TAB, VT and FF (CR and LF end the line).</summary>
    public static readonly char[] Separators = [' ', '\t', '\v', '\f'];

    /// <summary>Each "KEYWORD=value" (or "KEYWORD") after the path, separated by <see cref="Separators"/>.</summary>
    public static IEnumerable<(string Keyword, string? Value)> Parameters(string commandLine)
    {
        foreach (var parameter in AfterPath(commandLine.TrimEnd('\r', '\n')).Split(Separators, StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = parameter.IndexOf('=');
            yield return equals < 0 ? (parameter, null) : (parameter[..equals], parameter[(equals + 1)..]);
        }
    }

    /// <summary>The path between its brackets, as written; null when there is none.</summary>
    public static string? Path(string commandLine)
    {
        var line = commandLine.TrimEnd('\r', '\n');
        var open = line.IndexOf('<');
        var close = CloseOfPath(line);
        return open < 0 || close < 0 ? null : line[(open + 1)..close];
    }

    /// <summary>What follows the closing bracket of the path.</summary>
    private static string AfterPath(string line) => CloseOfPath(line) is var close and >= 0 ? line[(close + 1)..] : string.Empty;

    /// <summary>Where the path's closing bracket is; a quoted local part may hold a '>'. -1 when there is none.</summary>
    private static int CloseOfPath(string line)
    {
        var open = line.IndexOf('<');
        if (open < 0) return -1;
        var quoted = false;
        for (var i = open + 1; i < line.Length; i++)
        {
            switch (line[i])
            {
                case '\\' when quoted:
                    i++;
                    break;
                case '"':
                    quoted = !quoted;
                    break;
                case '>' when !quoted:
                    return i;
            }
        }
        return -1;
    }

    /// <summary>A keyword as it may appear in a reply: printable ASCII, at most 32 characters.</summary>
    public static string Printable(string keyword)
    {
        var printable = new string(keyword.Where(c => c is > ' ' and <= '~').Take(32).ToArray());
        return printable.Length == 0 ? "(empty)" : printable;
    }
}
