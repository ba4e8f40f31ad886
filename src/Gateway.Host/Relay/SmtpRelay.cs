using Gateway.Configuration;
using Gateway.Spool;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Relay;

/// <summary>
/// Relays to the upstream MTA over pooled sessions (<see cref="UpstreamPool"/>,
/// <see cref="UpstreamSession"/>), the copy's bytes exactly as spooled. Each recipient's answer
/// is returned separately; those a host deferred with a reply go once more to the hosts after it.
/// </summary>
public sealed class SmtpRelay : IRelay, IDisposable
{
    private readonly UpstreamPool _pool;
    private readonly TimeProvider _time;

    public SmtpRelay(IOptions<GatewayOptions> options, TimeProvider time, ILogger<SmtpRelay> logger)
    {
        _time = time;
        var relay = options.Value.Relay;
        _pool = new UpstreamPool(relay, relay.HeloName ?? options.Value.Smtp.ServerName, time, logger);
    }

    public async Task<IReadOnlyList<RecipientRelayResult>> SendAsync(string copyName, string mailFrom, IReadOnlyList<string> recipients, Stream content, DsnParameters? dsn, CancellationToken cancellationToken)
    {
        if (EnvelopeMailbox.TryCreate(mailFrom) is null)
            return recipients.Select(r => Result(r, 553, $"5.1.7 the sender address <{mailFrom}> cannot be written in an SMTP envelope")).ToList();
        var (writable, unwritable) = EnvelopeMailbox.Partition(recipients);
        var refused = unwritable.Select(r => Result(r, 553, $"5.1.3 the address <{r}> cannot be written in an SMTP envelope")).ToList();
        if (writable.Count == 0) return refused;

        var (results, answeredBy) = await SendOnceAsync(mailFrom, writable, content, dsn, after: null, cancellationToken);
        // Recipients a host deferred with a reply of its own (a 452 at RCPT, a 421 or 451 to the
        // transaction) go once more to the hosts after it, in this attempt, as Postfix tries the next
        // server after a soft error when it is not the last: a primary that defers everything while
        // its fallback is healthy must not hold the mail until Spool:MaximumLifetime. Never after a
        // lost connection or a timeout: the host may have taken the message, and it would go twice.
        if (answeredBy is not null && _pool.HasHostAfter(answeredBy) && results.Any(r => r.Outcome == RelayOutcome.Temporary))
        {
            var deferred = results.Where(r => r.Outcome == RelayOutcome.Temporary).Select(r => r.Recipient).ToHashSet(StringComparer.Ordinal);
            var (again, _) = await SendOnceAsync(mailFrom, writable.Where(w => deferred.Contains(w.Address)).ToList(), content, dsn, answeredBy, cancellationToken);
            // A next host that cannot be reached leaves the first host's own reply, which says more.
            // A recipient given twice has one answer for both entries.
            var reached = again.Where(r => r.Upstream is not null).GroupBy(r => r.Recipient, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            results = results.Select(r => r.Outcome == RelayOutcome.Temporary && reached.GetValueOrDefault(r.Recipient) is { } next ? next : r).ToList();
        }
        return [.. results, .. refused];
    }

    /// <summary>
    /// One transaction on one session: a pooled one, or, <paramref name="after"/> a host, a new one with
    /// the hosts configured after it. <c>AnsweredBy</c> is the host whose replies these are; null when
    /// none was reached or the session failed (its replies then unknown).
    /// </summary>
    private async Task<(List<RecipientRelayResult> Results, UpstreamHost? AnsweredBy)> SendOnceAsync(string mailFrom, List<(string Address, int Index)> writable, Stream content,
        DsnParameters? dsn, UpstreamHost? after, CancellationToken cancellationToken)
    {
        // The copy's own time, started once it has its place among Relay:MaxConnections, as long as its size needs.
        using var copyTime = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, copyTime.Token);
        UpstreamConnection? connection = null;
        var reusable = false;
        try
        {
            var message = RelayedContent.Scan(content);
            var allowed = CopyDeadline.For(message.Length, _pool.Settings);
            connection = await _pool.RentAsync(deadline.Token, slotTaken: () => copyTime.CancelAfter(allowed), after);
            var upstream = connection.Session.Capabilities;
            if (upstream.MaxSize > 0 && message.Length > upstream.MaxSize)
            {
                reusable = true; // nothing was sent
                return (writable.Select(w => Result(w.Address, 552, $"5.3.4 the message ({message.Length} bytes) is larger than upstream {connection.Host} takes ({upstream.MaxSize} bytes)") with { Upstream = connection.Host.ToString(), Tls = connection.Session.Protection })
                    .ToList(), connection.Host);
            }
            var transaction = RelayTransaction.Plan(mailFrom, writable, upstream, message, dsn);
            if (transaction.Unwritable is { } needUtf8)
            {
                reusable = true; // nothing was sent
                return ([.. needUtf8], connection.Host);
            }
            var replies = await connection.Session.SendAsync(transaction.Mail, transaction.Recipients, message, deadline.Token);
            // Cut by the stop, not by the upstream or the copy's time: the attempt ends as a stop ends it.
            if (replies.Interruption is not null) cancellationToken.ThrowIfCancellationRequested();
            // A refused transaction leaves the session in a known state, but one to say QUIT from, not to reuse.
            reusable = replies.Delivered;
            var (host, protection) = (connection.Host.ToString(), connection.Session.Protection);
            // Broken off after MAIL was taken, the host may hold the message for some: its replies do not count as its answer.
            return (transaction.Results(replies, upstream.Dsn).Select(r => r with { Upstream = host, Tls = protection }).ToList(),
                replies.Interruption is null || !replies.Mail.IsPositive ? connection.Host : null);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) throw;
            var upstream = connection?.Host.ToString() ?? _pool.Describe();
            var reply = e is OperationCanceledException ? $"4.4.2 upstream {upstream} timed out" : $"4.4.1 upstream {upstream}: {e.Message}";
            return (writable.Select(w => Result(w.Address, 451, reply) with { Upstream = connection?.Host.ToString() }).ToList(), null);
        }
        finally
        {
            // Any failure above left the session broken: dropped without QUIT, its state unknown.
            if (connection is not null) _pool.Return(connection, reusable, quit: !connection.Session.IsBroken);
        }
    }

    public void Dispose() => _pool.Dispose();

    private static RecipientRelayResult Result(string recipient, int code, string text) => RecipientRelayResult.Refused(recipient, code, $"{code} {text}");
}
