using Gateway.Configuration;
using SmtpServer;

namespace Gateway.Smtp;

/// <summary>The SmtpServer settings both listeners share: greeting without a version, strict size, timeouts.</summary>
internal static class SmtpServerSettings
{
    public static SmtpServerOptionsBuilder Builder(SmtpOptions smtp) => new SmtpServerOptionsBuilder()
        .ServerName(smtp.ServerName)
        .CustomSmtpGreeting(_ => $"220 {smtp.ServerName} ESMTP")
        .MaxMessageSize((int)smtp.MaxMessageSize, MaxMessageSizeHandling.Strict)
        .CommandWaitTimeout(smtp.CommandTimeout)
        // SmtpServer closes silently after this many consecutive errors; our ReplyStream counts
        // all errors and says 421 first, so this is only a backstop.
        .MaxRetryCount(smtp.MaxErrors + 1);
}
