using Gateway.Outcomes;

namespace Gateway.Smtp;

/// <summary>
/// Smtp:MaxMessageSize applied to DATA. A message's size is its bytes with the CRLF before the
/// final dot (RFC 1870 §4), after dot-unstuffing: the stores measure that exactly. While the data
/// still arrives only its wire length is known, with the stuffed dots, the final dot's line and
/// whatever the client pipelined after it, so the reader gives up on it only past what a message
/// within the limit can take on the wire.
/// </summary>
internal static class MessageSize
{
    /// <summary>Room for the final ".CRLF" and commands pipelined after it.</summary>
    private const long TrailingRoom = 64 * 1024;

    /// <summary>
    /// True when data of this wire length cannot be a message within the limit. Stuffing adds at
    /// most one byte per line, and a line has at least three (".", CR, LF): the wire form of a
    /// message is at most 4/3 of it.
    /// </summary>
    public static bool CannotFit(long wireLength, long limit) => wireLength > limit + limit / 3 + TrailingRoom;

    /// <summary>
    /// True when the message SmtpServer handed over (without our leading CRLF, and without the CRLF
    /// before the final dot, which belongs to the message) is over the limit.
    /// </summary>
    public static bool Exceeds(long handedOver, long limit) => handedOver + 2 > limit;

    public static readonly SmtpReply Reply = Failures.Reply(FailureKind.MessageTooLarge);

    /// <summary>Why a too-large message was refused, as every endpoint's audit line says it; <paramref name="endpoint"/> names one other than the main listener.</summary>
    public static string AuditReason(string? endpoint = null) => $"{endpoint}{Reply.Text} (Gateway:Smtp:MaxMessageSize)";
}
