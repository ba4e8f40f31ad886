using System.Buffers;
using Gateway.Policy;
using MimeKit;
using SmtpServer;

namespace Gateway.Smtp;

/// <summary>
/// Smtp:Auth:RequireOwnSender, for a session that relays because it authenticated (not one from a
/// trusted network): the envelope sender (<see cref="EnvelopeFilter"/>) and the message's From
/// addresses must be the user's own (<see cref="SmtpUsers.Owns"/>). Gateway signs with the
/// envelope sender's key, and mail clients show the From address next to that signature: a user
/// must not get their own signature under a colleague's From.
/// </summary>
/// <param name="users">Null when the binding is off (no AUTH, or RequireOwnSender false).</param>
internal sealed class SenderBinding(SmtpUsers? users, int maxHeaderSize)
{
    public SmtpUsers? Users => users;

    /// <summary>The user a session is bound to, or null when it is not bound.</summary>
    public string? BoundUser(ISessionContext context)
    {
        if (users is null || context.Authentication?.IsAuthenticated != true || GuardedEndpointListener.IsTrusted(context)) return null;
        return context.Authentication.User;
    }

    /// <summary>The first From address of the message the bound user does not own, or null when all are theirs.</summary>
    public string? ForeignFrom(ISessionContext context, ReadOnlySequence<byte> message)
    {
        if (BoundUser(context) is not { } user) return null;
        var head = message.Slice(0, Math.Min(message.Length, maxHeaderSize + 4L)).ToArray();
        var end = head.AsSpan().IndexOf("\r\n\r\n"u8);
        var facts = MessageFacts.Parse(end < 0 ? head : head.AsSpan(0, end + 2));
        if (facts.Header("From") is not { } from) return null;
        if (!InternetAddressList.TryParse(from, out var addresses)) return from.Trim();
        return addresses.Mailboxes.Select(m => m.Address).FirstOrDefault(a => !users!.Owns(user, a));
    }
}
