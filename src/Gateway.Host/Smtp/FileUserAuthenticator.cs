using Gateway.Audit;
using SmtpServer;
using SmtpServer.Authentication;

namespace Gateway.Smtp;

/// <summary>AUTH PLAIN/LOGIN against <see cref="SmtpUsers"/>; SmtpServer offers it only over TLS. Failures are audited.</summary>
internal sealed class FileUserAuthenticator(SmtpUsers users, IAuditLog audit) : IUserAuthenticator
{
    public async Task<bool> AuthenticateAsync(ISessionContext context, string user, string password, CancellationToken cancellationToken)
    {
        // PBKDF2 is deliberately slow: off the session's thread.
        var ok = await Task.Run(() => users.Verify(user, password), CancellationToken.None);
        // Answered either way: a message sent after a success is not accepted without its own audit line.
        await audit.TryWriteAsync(new AuditEvent(ok ? "auth-succeeded" : "auth-failed")
        {
            Client = SpoolingMessageStore.ClientAddress(context),
            User = user,
            Action = ok ? "authenticated" : "refused",
            Reason = ok ? null : "wrong user name or password",
        });
        return ok;
    }
}
