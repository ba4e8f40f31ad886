using Gateway.Outcomes;

namespace Gateway.Smtp;

/// <summary>
/// The parameters of a MAIL command: each keyword at most once (RFC 5321 §4.1.2 lists them; a
/// server cannot tell which of two values the client meant), and the DSN parameters (RFC 3461
/// §4.3, §4.4) checked when the command runs: RET is FULL or HDRS, ENVID is xtext of printable
/// ASCII of at most 100 characters. A malformed or repeated one gets 501 5.5.4, as from Postfix,
/// instead of being dropped unsaid. The others are SmtpServer's (BODY, SMTPUTF8, AUTH), and SIZE
/// is <see cref="DeclaredSize"/>'s.
/// </summary>
internal static class MailParameters
{
    /// <returns>The reply that refuses the command, or null.</returns>
    public static SmtpReply? Check(string commandLine)
    {
        if (Repeated(commandLine) is { } repeated) return repeated;
        foreach (var (keyword, value) in EnvelopeCommandLine.Parameters(commandLine))
        {
            if (keyword.Equals("RET", StringComparison.OrdinalIgnoreCase) && !Spool.DsnParameters.IsReturn(value))
                return Failures.Reply(FailureKind.ParameterInvalid, "Error: Bad RET parameter syntax");
            if (keyword.Equals("ENVID", StringComparison.OrdinalIgnoreCase) && (string.IsNullOrEmpty(value) || !Spool.DsnParameters.IsEnvelopeId(value)))
                return Failures.Reply(FailureKind.ParameterInvalid, "Error: Bad ENVID parameter syntax");
        }
        return null;
    }

    /// <summary>
    /// The refusal of a keyword given twice, or null. <see cref="CommandLineReader"/> asks before
    /// SmtpServer reads the line: its parser adds each parameter to a dictionary, throws on the
    /// second, and the session ended without a reply.
    /// </summary>
    public static SmtpReply? Repeated(string commandLine)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (keyword, _) in EnvelopeCommandLine.Parameters(commandLine))
            if (!seen.Add(keyword))
                return Failures.Reply(FailureKind.ParameterInvalid, $"Error: duplicate {EnvelopeCommandLine.Printable(keyword).ToUpperInvariant()} parameter");
        return null;
    }
}
