using Gateway.Configuration;
using Gateway.Spool;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Gateway.Relay;

/// <summary>
/// Relays to the upstream MTA with MailKit over pooled connections (<see cref="UpstreamPool"/>,
/// sockets with TCP_NODELAY: MailKit leaves Nagle on, which costs ~40 ms per message against
/// delayed ACKs). Each recipient's answer is returned separately.
/// </summary>
public sealed class SmtpRelay : IRelay, IDisposable
{
    private static readonly FormatOptions Wire = RawMessage.Format(CreateWireFormat());
    private readonly RelayOptions _relay;
    private readonly UpstreamPool _pool;

    public SmtpRelay(IOptions<GatewayOptions> options, TimeProvider time, ILogger<SmtpRelay> logger)
    {
        _relay = options.Value.Relay;
        _pool = new UpstreamPool(_relay, _relay.HeloName ?? options.Value.Smtp.ServerName, time, logger);
    }

    public async Task<IReadOnlyList<RecipientRelayResult>> SendAsync(string copyName, string mailFrom, IReadOnlyList<string> recipients, Stream content, DsnParameters? dsn, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_relay.Timeout * 5);
        var token = timeout.Token;
        UpstreamConnection? connection = null;
        var reusable = false;
        var saysGoodbye = false; // a refusal leaves the session in a known state: QUIT, not a dropped connection
        var sender = EnvelopeMailbox.TryCreate(mailFrom);
        if (sender is null)
            return recipients.Select(r => new RecipientRelayResult(r, RelayOutcome.Permanent, $"553 5.1.7 the sender address <{mailFrom}> cannot be written in an SMTP envelope")).ToList();
        // In the order dsn's per-recipient parameters follow; null for an address no envelope can hold.
        var mailboxes = recipients.Select(EnvelopeMailbox.TryCreate).ToList();
        var addressable = recipients.Select((r, i) => (Address: r, Mailbox: mailboxes[i])).Where(p => p.Mailbox is not null).Select(p => (p.Address, Mailbox: p.Mailbox!)).ToList();
        var refused = recipients.Where((_, i) => mailboxes[i] is null)
            .Select(r => new RecipientRelayResult(r, RelayOutcome.Permanent, $"553 5.1.3 the address <{r}> cannot be written in an SMTP envelope")).ToList();
        if (addressable.Count == 0) return refused;
        try
        {
            using var message = RawMessage.Create(content);
            connection = await _pool.RentAsync(token);
            var client = connection.Client;
            client.StartMessage(dsn, mailboxes);
            // MailKit sends each address once (the first of those alike, case aside): the others share its answer.
            var reply = await client.SendAsync(Wire, message, sender, addressable.Select(p => p.Mailbox).DistinctBy(m => m.Address, StringComparer.OrdinalIgnoreCase).ToList(), token);
            reusable = true;
            return Answers(client, addressable, address => new RecipientRelayResult(address, RelayOutcome.Accepted, "250 " + reply, client.PassesDsn))
                .Concat(refused).ToList();
        }
        catch (SmtpCommandException e) when (e.ErrorCode == SmtpErrorCode.RecipientNotAccepted || e.ErrorCode == SmtpErrorCode.SenderNotAccepted || e.ErrorCode == SmtpErrorCode.MessageNotAccepted)
        {
            saysGoodbye = true;
            // When no recipient is accepted MailKit throws; the recorded rejections still say why for each.
            return Answers(connection?.Client, addressable, address => new RecipientRelayResult(address, Classify((int)e.StatusCode), $"{(int)e.StatusCode} {e.Message}"))
                .Concat(refused).ToList();
        }
        catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or IOException or System.Net.Sockets.SocketException
                                      or SslHandshakeException or AuthenticationException or OperationCanceledException or ServiceNotConnectedException
                                      or NotSupportedException)
        {
            var upstream = connection?.Host.ToString() ?? _pool.Describe();
            var reply = e is OperationCanceledException && !cancellationToken.IsCancellationRequested
                ? $"451 4.4.2 upstream {upstream} timed out"
                : $"451 4.4.1 upstream {upstream}: {e.Message}";
            if (e is SmtpCommandException command && (int)command.StatusCode >= 500)
                return addressable.Select(p => new RecipientRelayResult(p.Address, RelayOutcome.Permanent, $"{(int)command.StatusCode} {command.Message}")).Concat(refused).ToList();
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) throw;
            return addressable.Select(p => new RecipientRelayResult(p.Address, RelayOutcome.Temporary, reply)).Concat(refused).ToList();
        }
        finally
        {
            if (connection is not null) _pool.Return(connection, reusable, saysGoodbye);
        }
    }

    public void Dispose() => _pool.Dispose();

    /// <summary>
    /// Each recipient's answer: the upstream's refusal, matched by the mailbox objects given to
    /// MailKit (an xn-- domain reads as Unicode in them) and shared by the recipients of the same
    /// address that MailKit did not send; else what <paramref name="otherwise"/> says.
    /// </summary>
    private static IEnumerable<RecipientRelayResult> Answers(RelayClient? client, IReadOnlyList<(string Address, MailboxAddress Mailbox)> addressable,
        Func<string, RecipientRelayResult> otherwise)
    {
        var rejected = new Dictionary<MailboxAddress, SmtpResponse>(ReferenceEqualityComparer.Instance);
        foreach (var (mailbox, response) in client?.Rejected ?? []) rejected[mailbox] = response;
        foreach (var alike in addressable.GroupBy(p => p.Mailbox.Address, StringComparer.OrdinalIgnoreCase))
            if (rejected.TryGetValue(alike.First().Mailbox, out var response))
                foreach (var other in alike.Skip(1)) rejected[other.Mailbox] = response;
        return addressable.Select(p => rejected.TryGetValue(p.Mailbox, out var response)
            ? new RecipientRelayResult(p.Address, Classify((int)response.StatusCode), $"{(int)response.StatusCode} {response.Response}")
            : otherwise(p.Address));
    }

    private static RelayOutcome Classify(int code) => code >= 500 ? RelayOutcome.Permanent : RelayOutcome.Temporary;

    private static FormatOptions CreateWireFormat()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.International = false; // true would re-fold headers and change signed bytes
        return options;
    }
}
