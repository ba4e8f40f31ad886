using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
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
/// A PLAIN message SmtpServer cannot split into user and password is refused here too
/// (<see cref="MalformedPlain"/>): SmtpServer answers it twice.
/// </summary>
internal static partial class AuthResponse
{
    public static readonly SmtpReply UndecodableInitial = new(501, "5.5.2", "Invalid base64 data in initial response");
    public static readonly SmtpReply UndecodableAnswer = new(501, "5.5.2", "Invalid base64 data in continued response");
    public static readonly SmtpReply Cancelled = new(501, "5.7.0", "Authentication aborted");

    /// <summary>
    /// RFC 4954 §6 for a mechanism this server does not offer whose name begins with PLAIN or
    /// LOGIN. SmtpServer reads "LOGIN-MD5" or "PLAIN\+" as LOGIN or PLAIN with an initial response
    /// glued on, skips one character and decodes the rest: the session faulted without a reply.
    /// Other names are SmtpServer's to answer (its 502, or its 503 where AUTH is not allowed).
    /// </summary>
    public static readonly SmtpReply UnrecognizedMechanism = new(504, "5.5.4", "Unrecognized authentication type");

    /// <summary>RFC 4954 §4: an answer longer than the server's authentication buffer fails the AUTH with 500, and 5.5.6.</summary>
    public static readonly SmtpReply TooLong = new(500, "5.5.6", "Authentication Exchange line is too long");

    /// <summary>
    /// A bare LF ends no line here (<see cref="CommandLineReader"/>), so such an answer is one the
    /// server cannot decode: RFC 4954 §4's 501 5.5.2, in the words a bare-LF command line gets.
    /// </summary>
    public static readonly SmtpReply EndedByBareLineFeed = new(501, "5.5.2", Failures.Reply(FailureKind.BareLineFeed).Text);

    /// <summary>
    /// A PLAIN message (RFC 4616 §2: [authzid] NUL authcid NUL passwd) without its two NULs. SmtpServer
    /// answers it with a 535 and then with the 535 of its failed AUTH, and the client read each later
    /// reply as the answer to the command after its own. It decodes, so RFC 4954 §4's 501 (a response
    /// that cannot be base64-decoded) is not its reply; it carries no user and password to check,
    /// which is RFC 4954 §6's 535 5.7.8 (invalid or insufficient credentials). That is also Postfix's
    /// reply to any failed SASL exchange, and a wrong password's here: a guesser learns nothing from which.
    /// </summary>
    public static readonly SmtpReply MalformedPlain = new(535, "5.7.8", "Authentication credentials invalid");

    /// <summary>
    /// The refusal of a line (without its CRLF) that answers a 334; null when SmtpServer can take it.
    /// <paramref name="plain"/>: the 334 is PLAIN's, whose answer is the whole PLAIN message.
    /// </summary>
    public static SmtpReply? RefusalOfAnswer(ReadOnlySequence<byte> line, bool plain)
    {
        // As SmtpServer reads it: ASCII, so a byte over 0x7F becomes '?', which no base64 has.
        var text = Encoding.ASCII.GetString(line);
        if (text == "*") return Cancelled;
        if (!Decodes(text)) return UndecodableAnswer;
        return plain && !SplitsAsPlain(text) ? MalformedPlain : null;
    }

    /// <summary>Whether the AUTH line (without its CRLF) asks for PLAIN, whose 334 (if any) is answered with the whole message.</summary>
    public static bool IsPlain(ReadOnlySequence<byte> line)
    {
        var words = Encoding.ASCII.GetString(line).Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
        return words.Length >= 2 && words[1].Equals("PLAIN", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The refusal of an AUTH line (without its CRLF) that names a mechanism SmtpServer would misread
    /// (<see cref="UnrecognizedMechanism"/>), or whose initial response is not base64, or is
    /// not a PLAIN message (<see cref="MalformedPlain"/>); null for any other. An AUTH without a
    /// mechanism or a response, and "=" (RFC 4954's empty one), are SmtpServer's to answer: none
    /// of them reaches its decoder.
    /// </summary>
    public static SmtpReply? RefusalOfCommand(ReadOnlySequence<byte> line)
    {
        var words = Encoding.ASCII.GetString(line).Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 2) return null;
        if (!IsSmtpServersMechanism(words[1])) return GluedToSmtpServersMechanism(words[1]) ? UnrecognizedMechanism : null;
        if (words.Length < 3) return null;
        var response = words[2].Trim();
        if (response == "=") return null;
        // SmtpServer's parser stops at the first character that is not base64 and decodes what came
        // before: with no white space inside, that is the whole response.
        if (response.Any(char.IsWhiteSpace) || !Decodes(response)) return UndecodableInitial;
        return words[1].Equals("PLAIN", StringComparison.OrdinalIgnoreCase) && !SplitsAsPlain(response) ? MalformedPlain : null;
    }

    /// <summary>
    /// A name SmtpServer's tokenizer splits into PLAIN or LOGIN and more: they end at the first
    /// character that is not a letter. (A byte beyond ASCII, '?' here, would be one of its letters:
    /// refusing that unknown mechanism too costs nothing.)
    /// </summary>
    private static bool GluedToSmtpServersMechanism(string mechanism) =>
        mechanism.Length > 5 && IsSmtpServersMechanism(mechanism[..5]) && !char.IsAsciiLetter(mechanism[5]);

    private static bool IsSmtpServersMechanism(string mechanism) =>
        mechanism.Equals("PLAIN", StringComparison.OrdinalIgnoreCase) || mechanism.Equals("LOGIN", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether Convert.FromBase64String, which SmtpServer calls, takes it; the decoded form is never longer.</summary>
    private static bool Decodes(string text) => Convert.TryFromBase64String(text, new byte[text.Length], out _);

    /// <summary>Whether SmtpServer finds a user and a password in this PLAIN message (base64 it decodes): its own test, so exactly what it would answer twice is refused.</summary>
    private static bool SplitsAsPlain(string base64) => PlainMessage().IsMatch(Encoding.UTF8.GetString(Convert.FromBase64String(base64)));

    [GeneratedRegex("\0(?<user>.*)\0(?<password>.*)")]
    private static partial Regex PlainMessage();
}
