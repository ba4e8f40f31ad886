using SmtpServer.Mail;
using SmtpServer.Protocol;

namespace Gateway.Smtp;

/// <summary>
/// The sender and accepted recipients of the client's current transaction, as the connection saw
/// them: a MAIL or RCPT counts once its reply was 2xx, and the transaction ends with the reply to
/// the data, or with RSET, EHLO or HELO (RFC 5321 §4.1.4). SmtpServer keeps its own transaction
/// internal; a session Gateway ends before any store saw the message is audited with this one
/// (<see cref="SessionClosure"/>), on every listener.
/// </summary>
internal sealed class OpenTransaction
{
    private readonly List<string> _recipients = [];
    private SmtpCommand? _awaitingReply;
    private string? _sender;

    public string? Sender => _sender;
    public IReadOnlyList<string> Recipients => _recipients;

    /// <summary>A command SmtpServer is about to execute; its reply comes next.</summary>
    public void OnCommand(SmtpCommand command)
    {
        _awaitingReply = command;
        if (command is RsetCommand or EhloCommand or HeloCommand) End();
    }

    /// <summary>The last line of a reply; <paramref name="answersData"/> when it is the reply to the data after a 354.</summary>
    public void OnReply(int code, bool answersData)
    {
        var command = _awaitingReply;
        _awaitingReply = null;
        if (answersData)
        {
            End();
            return;
        }
        if (code is < 200 or >= 300) return;
        switch (command)
        {
            case MailCommand mail:
                End();
                _sender = Address(mail.Address);
                break;
            case RcptCommand rcpt when _sender is not null:
                _recipients.Add(Address(rcpt.Address));
                break;
        }
    }

    private void End()
    {
        _sender = null;
        _recipients.Clear();
    }

    private static string Address(IMailbox? mailbox) =>
        mailbox is null || string.IsNullOrEmpty(mailbox.User) ? string.Empty : EnvelopeAddress.Of(mailbox, null);
}
