using Gateway.Outcomes;

namespace Gateway.Smtp;

/// <summary>
/// The DSN parameters of a MAIL command (RFC 3461 §4.3, §4.4), checked when the command runs:
/// RET is FULL or HDRS, ENVID is xtext of printable ASCII of at most 100 characters, each once.
/// A malformed one gets 501 5.5.4, as from Postfix, instead of being dropped unsaid. The others
/// are SmtpServer's (BODY, SMTPUTF8, AUTH), and SIZE is <see cref="DeclaredSize"/>'s.
/// </summary>
internal static class MailParameters
{
    /// <returns>The reply that refuses the command, or null.</returns>
    public static SmtpReply? Check(string commandLine)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (keyword, value) in EnvelopeCommandLine.Parameters(commandLine))
        {
            var isRet = keyword.Equals("RET", StringComparison.OrdinalIgnoreCase);
            var isEnvid = keyword.Equals("ENVID", StringComparison.OrdinalIgnoreCase);
            if (!isRet && !isEnvid) continue;
            if (!seen.Add(keyword)) return Failures.Reply(FailureKind.ParameterInvalid, $"Error: duplicate {keyword.ToUpperInvariant()} parameter");
            if (isRet && !Spool.DsnParameters.IsReturn(value))
                return Failures.Reply(FailureKind.ParameterInvalid, "Error: Bad RET parameter syntax");
            if (isEnvid && (string.IsNullOrEmpty(value) || !Spool.DsnParameters.IsEnvelopeId(value)))
                return Failures.Reply(FailureKind.ParameterInvalid, "Error: Bad ENVID parameter syntax");
        }
        return null;
    }
}
