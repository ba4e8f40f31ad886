using System.Text.RegularExpressions;
using Gateway.Outcomes;

namespace Gateway.Smtp;

/// <summary>
/// SmtpServer's own replies as the client gets them: with an RFC 3463 enhanced status code, which
/// SmtpServer never writes and every reply of ours has, and with a 421 where it closes on its own.
/// The one table from its words to ours; a reply not in it passes unchanged. SmtpServer's "501
/// syntax error", "501 missing the FROM:/TO:" and "553 mailbox name not allowed" are not here:
/// its parser tries the next command after each and ends at "502 Unrecognized command", so
/// they never reach a client. Nor are replies the gateway never lets it give (530, 550, the 552 of
/// its Strict size check).
/// </summary>
internal static partial class SmtpServerReplies
{
    /// <param name="line">A reply line with its CRLF, without SmtpServer's retry counter.</param>
    public static string Rewrite(string line, SmtpSessionLimits limits) => line switch
    {
        // The parser's answer to an unknown verb and to a known one it cannot parse ("MAIL FROM:a@b",
        // "HELO" alone) alike: X.5.2 is RFC 3463's code for both ("the syntax was wrong or the
        // command is unrecognized"), and the text is RFC 5321's for a 500.
        "502 Unrecognized command\r\n" => "502 5.5.2 Syntax error, command unrecognized\r\n",
        // MAIL with SIZE= over Smtp:MaxMessageSize: the reply data over it gets.
        "552 size limit exceeded\r\n" => MessageSize.Reply + "\r\n",
        // DataCommand's answer to an exception out of the store or the reader, a permanent 554 for
        // what can only be our own fault: temporary, as Failures has every unexpected error.
        "554 \r\n" => Failures.Reply(FailureKind.Unexpected) + "\r\n",
        // RFC 5321 §4.2.2: 421 is the server closing on its own; 221 answers a client's QUIT.
        "221 Timeout while waiting for input.\r\n" => limits.TimeoutReply + "\r\n",
        "221 The session has be cancelled.\r\n" => $"421 4.3.2 {limits.ServerName} Service shutting down\r\n",
        // Its state machine words a command out of sequence as a syntax error; RFC 5321 has 503 and
        // RFC 3463 X.5.1 ("out of sequence") for it.
        _ when line.StartsWith("501 expected ", StringComparison.Ordinal) => "503 5.5.1 Bad sequence of commands, " + line[4..],
        // RFC 4954 §6's reply for wrong credentials, without SmtpServer's ", N attempt(s) remaining.",
        // which tells a password guesser how many tries this connection has left.
        _ when line.StartsWith("535 authentication failed", StringComparison.Ordinal) => "535 5.7.8 Authentication credentials invalid\r\n",
        _ => line,
    };

    /// <summary>
    /// How Gateway closes the session after this reply of SmtpServer's (before <see cref="Rewrite"/>),
    /// when SmtpServer closes it next; null for any other reply. After its last failed AUTH
    /// (<see cref="SmtpSessionLimits.MaxFailedAuthentications"/>) it quits with "221 bye", QUIT's
    /// own reply, which tells the client that all went well, and no audit line said why the
    /// session ended. It cannot be rewritten in the table: a QUIT gets the same words. The 421
    /// goes right after the 535, as after too many errors; SmtpServer's 221 then meets a closed connection.
    /// </summary>
    public static SessionClosure? ClosureAfter(string line, SmtpSessionLimits limits) =>
        LastAuthenticationFailure().Match(line) is { Success: true } failure && int.Parse(failure.Groups[1].ValueSpan) <= 0
            ? new SessionClosure($"{SmtpSessionLimits.MaxFailedAuthentications} failed authentications on one connection",
                $"421 4.7.0 {limits.ServerName} Error: too many failed authentications")
            : null;

    [GeneratedRegex(@"^535 authentication failed, (-?\d{1,9}) attempt\(s\) remaining\.\r?\n$")]
    private static partial Regex LastAuthenticationFailure();
}
