using System.Buffers;
using System.Text;
using Gateway.Outcomes;

namespace Gateway.Smtp;

/// <summary>
/// The client's side of an AUTH exchange (RFC 4954): the initial response on the AUTH line, and
/// each line that answers a 334. SmtpServer decodes both with Convert.FromBase64String and no catch
/// (upstream issue #272), so a response that was not base64, or the "*" with which a client cancels
/// the exchange, faulted the session: the connection closed without a reply. These are the lines
/// <see cref="CommandLineReader"/> refuses before SmtpServer reads them, with the 501s RFC 4954 §4
/// requires, in Postfix's words. An answer the reader cannot take as a line at all (too long, or
/// ended by a bare LF) ends the exchange too, with <see cref="TooLong"/> or <see cref="EndedByBareLineFeed"/>.
/// </summary>
internal static class AuthResponse
{
    public static readonly SmtpReply UndecodableInitial = new(501, "5.5.2", "Invalid base64 data in initial response");
    public static readonly SmtpReply UndecodableAnswer = new(501, "5.5.2", "Invalid base64 data in continued response");
    public static readonly SmtpReply Cancelled = new(501, "5.7.0", "Authentication aborted");

    /// <summary>RFC 4954 §4: an answer longer than the server's authentication buffer fails the AUTH with 500, and 5.5.6.</summary>
    public static readonly SmtpReply TooLong = new(500, "5.5.6", "Authentication Exchange line is too long");

    /// <summary>
    /// A bare LF ends no line here (<see cref="CommandLineReader"/>), so such an answer is one the
    /// server cannot decode: RFC 4954 §4's 501 5.5.2, in the words a bare-LF command line gets.
    /// </summary>
    public static readonly SmtpReply EndedByBareLineFeed = new(501, "5.5.2", Failures.Reply(FailureKind.BareLineFeed).Text);

    /// <summary>The refusal of a line (without its CRLF) that answers a 334; null when SmtpServer can decode it.</summary>
    public static SmtpReply? RefusalOfAnswer(ReadOnlySequence<byte> line)
    {
        // As SmtpServer reads it: ASCII, so a byte over 0x7F becomes '?', which no base64 has.
        var text = Encoding.ASCII.GetString(line);
        if (text == "*") return Cancelled;
        return Decodes(text) ? null : UndecodableAnswer;
    }

    /// <summary>
    /// The refusal of an AUTH PLAIN or LOGIN line (without its CRLF) whose initial response is not
    /// base64; null for any other. An AUTH without a response, "=" (RFC 4954's empty one) and other
    /// mechanisms are SmtpServer's to answer: none of them reaches its decoder.
    /// </summary>
    public static SmtpReply? RefusalOfCommand(ReadOnlySequence<byte> line)
    {
        var words = Encoding.ASCII.GetString(line).Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 3 || !IsSmtpServersMechanism(words[1])) return null;
        var response = words[2].Trim();
        // SmtpServer's parser stops at the first character that is not base64 and decodes what came
        // before: with no white space inside, that is the whole response.
        return response == "=" || (!response.Any(char.IsWhiteSpace) && Decodes(response)) ? null : UndecodableInitial;
    }

    private static bool IsSmtpServersMechanism(string mechanism) =>
        mechanism.Equals("PLAIN", StringComparison.OrdinalIgnoreCase) || mechanism.Equals("LOGIN", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether Convert.FromBase64String, which SmtpServer calls, takes it; the decoded form is never longer.</summary>
    private static bool Decodes(string text) => Convert.TryFromBase64String(text, new byte[text.Length], out _);
}
