using System.Globalization;
using Gateway.Outcomes;

namespace Gateway.Smtp;

/// <summary>
/// MAIL's SIZE parameter (RFC 1870 §6): a declared size over Smtp:MaxMessageSize is refused with
/// 552 5.3.4 before any data is sent, and one that is not 1 to 20 digits with 501 5.5.4, as from
/// Postfix. SmtpServer checks the size too, but reads it as an int and takes what it cannot read
/// for 0: a SIZE past 2^31, and one that is no number at all, got 250, and the client sent its
/// data only to have it refused after the dot.
/// </summary>
internal static class DeclaredSize
{
    /// <summary>RFC 1870 §3: size-value ::= 1*20DIGIT.</summary>
    private const int MaxDigits = 20;

    /// <returns>The reply that refuses the command, or null (also when it declares no size).</returns>
    public static SmtpReply? Check(string commandLine, long limit)
    {
        foreach (var (keyword, value) in EnvelopeCommandLine.Parameters(commandLine))
        {
            if (!keyword.Equals("SIZE", StringComparison.OrdinalIgnoreCase)) continue;
            if (string.IsNullOrEmpty(value) || value.Length > MaxDigits || !value.All(char.IsAsciiDigit))
                return Failures.Reply(FailureKind.ParameterInvalid, "Error: Bad SIZE parameter syntax");
            // Twenty digits may be past ulong, and a size past ulong is past every limit.
            return !ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size > (ulong)limit ? MessageSize.Reply : null;
        }
        return null;
    }
}
