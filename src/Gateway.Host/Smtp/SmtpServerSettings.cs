using Gateway.Configuration;
using SmtpServer;

namespace Gateway.Smtp;

/// <summary>The SmtpServer settings both listeners share: greeting without a version, size, timeouts.</summary>
internal static class SmtpServerSettings
{
    public static SmtpServerOptionsBuilder Builder(SmtpOptions smtp) => new SmtpServerOptionsBuilder()
        .ServerName(smtp.ServerName)
        .CustomSmtpGreeting(_ => $"220 {smtp.ServerName} ESMTP")
        // For EHLO's SIZE and MAIL's SIZE= only. The data itself is measured by CommandLineReader
        // and the stores (MessageSize): SmtpServer's Strict check sent no reply and then waited for
        // more data, for ever when the whole message had already arrived.
        .MaxMessageSize((int)smtp.MaxMessageSize, MaxMessageSizeHandling.Ignore)
        .CommandWaitTimeout(smtp.CommandTimeout)
        .MaxAuthenticationAttempts(SmtpSessionLimits.MaxFailedAuthentications)
        // SmtpServer closes silently after this many consecutive errors, and it counts the 452s for
        // recipients over Smtp:MaxRecipients, which are no errors (SmtpConnectionState): a
        // pipelining client sending more of them than this lost its session without a word.
        // ReplyStream counts the errors and ends the session with a 421; SmtpServer never does.
        .MaxRetryCount(int.MaxValue);
}
