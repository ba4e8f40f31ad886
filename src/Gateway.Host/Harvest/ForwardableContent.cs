using System.Buffers;
using Gateway.Mail;

namespace Gateway.Harvest;

/// <summary>
/// Whether decrypted content can go on over SMTP as it is. Inside CMS anything may be (RFC 8551
/// §3.1.2 allows binary); on the wire to the internal MTA it must not have a bare CR (a line end
/// to some servers: SMTP smuggling), a NUL or a line over 998 octets (RFC 5321 §4.5.3.1.6; there
/// is no BINARYMIME here), nor be larger than Smtp:MaxMessageSize, which the internal MTA would
/// refuse after the dot, so that the sender bounced mail that could have gone on encrypted. Such
/// a message goes on as it came, encrypted, with the reason.
/// </summary>
internal static class ForwardableContent
{
    /// <summary>RFC 5321 §4.5.3.1.6: 1000 octets with the CRLF.</summary>
    private const int MaximumLineLength = 998;

    /// <returns>Null when it can go on; otherwise the short reason for <c>X-Gateway-Not-Decrypted</c> and the audit's.</returns>
    public static (string Short, string Detail)? Problem(byte[] message, long maxMessageSize)
    {
        if (DataScreen.CheckLineEnds(new ReadOnlySequence<byte>(message), rejectBareLineFeed: false) is not null)
            return ("bare-cr", "the decrypted message has a bare CR");
        if (message.AsSpan().Contains((byte)0)) return ("binary", "the decrypted message has a NUL, which SMTP cannot carry");
        if (LongestLine(message) > MaximumLineLength) return ("binary", $"the decrypted message has a line over {MaximumLineLength} octets, which SMTP cannot carry");
        if (message.Length > maxMessageSize) return ("too-large", "the decrypted message is larger than Gateway:Smtp:MaxMessageSize");
        return null;
    }

    private static int LongestLine(ReadOnlySpan<byte> message)
    {
        var longest = 0;
        while (!message.IsEmpty)
        {
            var end = message.IndexOf((byte)'\n');
            var line = end < 0 ? message : message[..end];
            longest = Math.Max(longest, line.EndsWith((byte)'\r') ? line.Length - 1 : line.Length);
            message = end < 0 ? default : message[(end + 1)..];
        }
        return longest;
    }
}
