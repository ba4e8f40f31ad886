namespace Gateway.Smtp;

/// <summary>
/// SmtpServer ends a session that outlives Smtp:SessionTimeout without a word: its own 221 is
/// written with the token that was just cancelled, so the client sees the connection drop. The
/// client gets a 421 instead and the audit a session-closed line. Sessions cancelled because the
/// host stops are SmtpServer's to end (ReplyStream words its 221 as a shutdown).
/// </summary>
internal static class SessionTimeouts
{
    public static void Answer(SmtpServer.SmtpServer server, CancellationToken stopping) =>
        server.SessionCancelled += (_, e) =>
        {
            if (stopping.IsCancellationRequested || e.Context.Pipe is not NetworkDuplexPipe pipe) return;
            // Not awaited: the event is synchronous, and SmtpServer disposes the pipe once it returns.
            // The closure is recorded before the first await; the reply is a single small write.
            _ = pipe.Replies.CloseWithAsync(new SessionClosure(
                "the session lasted longer than Gateway:Smtp:SessionTimeout",
                $"421 4.4.2 {pipe.State.Limits.ServerName} Error: session time limit exceeded"), CancellationToken.None);
        };
}
