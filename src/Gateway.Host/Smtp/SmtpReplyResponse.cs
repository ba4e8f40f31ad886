using Gateway.Outcomes;
using SmtpServer.Protocol;

namespace Gateway.Smtp;

/// <summary>Our replies (<see cref="SmtpReply"/>, in Core, which knows nothing of SmtpServer) as SmtpServer writes them.</summary>
internal static class SmtpReplyResponse
{
    public static SmtpResponse ToResponse(this SmtpReply reply) => new((SmtpReplyCode)reply.Code, $"{reply.EnhancedCode} {reply.Text}");
}
