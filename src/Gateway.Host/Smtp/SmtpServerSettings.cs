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
        // SmtpServer closes silently after this many consecutive errors; our ReplyStream counts
        // all errors and says 421 first, so this is only a backstop.
        .MaxRetryCount(smtp.MaxErrors + 1);
}
