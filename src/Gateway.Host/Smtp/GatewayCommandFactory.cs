using SmtpServer;
using SmtpServer.Protocol;

namespace Gateway.Smtp;

/// <summary>
/// SmtpServer's commands with a mail server's greeting: "250-gw.example.com" (RFC 5321 §4.1.1.1:
/// the server's domain, then optional text) instead of SmtpServer's "Hello CLIENT, haven't we met
/// before?", which reads as a toy to every admin tailing a log and tells nothing. With
/// <paramref name="offerDsn"/>, EHLO also offers DSN (RFC 3461): the listener then takes NOTIFY
/// and ORCPT (<see cref="RcptParameters"/>) and the spool, the relay and the reports honour them.
/// </summary>
internal sealed class GatewayCommandFactory(bool offerDsn) : SmtpCommandFactory
{
    public override SmtpCommand CreateEhlo(string domainOrAddress) => new Ehlo(domainOrAddress, offerDsn);

    public override SmtpCommand CreateHelo(string domainOrAddress) => new Helo(domainOrAddress);

    private sealed class Ehlo(string domainOrAddress, bool offerDsn) : EhloCommand(domainOrAddress)
    {
        protected override string GetGreeting(ISessionContext context) => context.ServerOptions.ServerName;

        protected override IEnumerable<string> GetExtensions(ISessionContext context) =>
            offerDsn ? base.GetExtensions(context).Append("DSN") : base.GetExtensions(context);
    }

    private sealed class Helo(string domainOrAddress) : HeloCommand(domainOrAddress)
    {
        protected override string GetGreeting(ISessionContext context) => context.ServerOptions.ServerName;
    }
}
