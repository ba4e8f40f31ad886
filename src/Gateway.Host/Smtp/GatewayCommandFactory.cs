using SmtpServer;
using SmtpServer.Protocol;

namespace Gateway.Smtp;

/// <summary>
/// SmtpServer's commands with a mail server's greeting: "250-gw.example.com" (RFC 5321 §4.1.1.1:
/// the server's domain, then optional text) instead of SmtpServer's "Hello CLIENT, haven't we met
/// before?", which reads as a toy to every admin tailing a log and tells nothing.
/// </summary>
internal sealed class GatewayCommandFactory : SmtpCommandFactory
{
    public override SmtpCommand CreateEhlo(string domainOrAddress) => new Ehlo(domainOrAddress);

    public override SmtpCommand CreateHelo(string domainOrAddress) => new Helo(domainOrAddress);

    private sealed class Ehlo(string domainOrAddress) : EhloCommand(domainOrAddress)
    {
        protected override string GetGreeting(ISessionContext context) => context.ServerOptions.ServerName;
    }

    private sealed class Helo(string domainOrAddress) : HeloCommand(domainOrAddress)
    {
        protected override string GetGreeting(ISessionContext context) => context.ServerOptions.ServerName;
    }
}
