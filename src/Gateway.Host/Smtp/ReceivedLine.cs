using System.Globalization;
using SmtpServer;

namespace Gateway.Smtp;

/// <summary>
/// The Received line each of our endpoints puts above a message it takes (RFC 5321 §4.4: every
/// relay adds one; it is what hop counts count), outside anything signed.
/// </summary>
internal static class ReceivedLine
{
    /// <param name="id">Our id for the message (the spool id), when it has one.</param>
    public static string Of(ISessionContext context, string client, string serverName, string? id, DateTimeOffset time)
    {
        var protocol = "ESMTP" + (context.Pipe?.IsSecure == true ? "S" : "") + (context.Authentication?.IsAuthenticated == true ? "A" : "");
        var date = time.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture);
        return $"Received: from [{client}]\r\n\tby {serverName} (Gateway) with {protocol}{(id is null ? "" : " id " + id)};\r\n\t{date}\r\n";
    }
}
