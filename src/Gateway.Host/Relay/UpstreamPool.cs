using System.Net.Sockets;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Relay;

/// <summary>
/// Reused connections to the upstream, at most Relay:MaxConnections at once. An idle connection
/// is dropped when the upstream closed it, checked with NOOP before reuse when it rested longer
/// than a few seconds, closed after Relay:IdleTimeout, after
/// Relay:MaxMessagesPerConnection messages, and after any error. New connections go to Relay:Host,
/// then to each of Relay:FallbackHosts when one cannot be reached, fails TLS, or refuses the
/// session at its greeting, EHLO, STARTTLS or AUTH (and, for the recipients a host deferred in a
/// transaction, see <see cref="SmtpRelay"/>). A host that gave no session at all is tried after
/// the others for a while (<see cref="UpstreamOutages"/>).
/// </summary>
internal sealed partial class UpstreamPool : IDisposable
{
    private static readonly TimeSpan CheckAfterIdle = TimeSpan.FromSeconds(3);
    private readonly RelayOptions _relay;
    private readonly IReadOnlyList<UpstreamHost> _hosts;
    private readonly UpstreamSettings _settings;
    private readonly TimeProvider _time;
    private readonly UpstreamOutages _outages;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly Stack<UpstreamConnection> _idle = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<UpstreamConnection, Task> _closing = [];
    private volatile bool _disposed;

    public UpstreamPool(RelayOptions relay, string heloName, TimeProvider time, ILogger logger)
    {
        _relay = relay;
        _time = time;
        _outages = new UpstreamOutages(relay.Timeout * 3, time);
        _logger = logger;
        _slots = new SemaphoreSlim(relay.MaxConnections, relay.MaxConnections);
        _hosts = UpstreamHost.AllOf(relay);
        _settings = UpstreamSettings.For(relay, heloName);
    }

    public string Describe() => string.Join(", ", _hosts);

    /// <summary>How sessions are opened, with the timeouts they keep.</summary>
    public UpstreamSettings Settings => _settings;

    /// <summary>A connection ready for MAIL FROM; the caller must <see cref="Return"/> it.</summary>
    /// <param name="slotTaken">
    /// Called once a place in Relay:MaxConnections is free, before the connection is checked or
    /// opened: where the caller starts the clock of what it does with the upstream.
    /// </param>
    /// <param name="after">
    /// Set to go past a host that answered a transaction with a soft refusal: a new session with the
    /// hosts configured after it, in order, never an idle connection (which may be to any host).
    /// </param>
    public async Task<UpstreamConnection> RentAsync(CancellationToken cancellationToken, Action? slotTaken = null, UpstreamHost? after = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _slots.WaitAsync(cancellationToken);
        try
        {
            slotTaken?.Invoke();
            if (after is not null) return await OpenAsync(_hosts.Skip(IndexOf(after) + 1), cancellationToken);
            while (TakeIdle() is { } idle)
            {
                if (_time.GetUtcNow() - idle.LastUsed < CheckAfterIdle) return idle;
                try
                {
                    await idle.Session.NoOpAsync(cancellationToken);
                    return idle;
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
                {
                    idle.Dispose(); // closed by the upstream while idle: open another
                    if (e is OperationCanceledException) throw;
                }
            }
            return await OpenAsync(_hosts, cancellationToken);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <summary>True when Relay:FallbackHosts names a host after <paramref name="host"/>.</summary>
    public bool HasHostAfter(UpstreamHost host) => IndexOf(host) is var index && index >= 0 && index < _hosts.Count - 1;

    private int IndexOf(UpstreamHost host)
    {
        for (var i = 0; i < _hosts.Count; i++)
            if (_hosts[i] == host) return i;
        return -1;
    }

    /// <param name="reusable">False after any error or refusal: the connection is not used again.</param>
    /// <param name="quit">
    /// For one that is not reusable: the session is in a known state (a refusal), so it says QUIT;
    /// otherwise (I/O error, timeout) its state is unknown and it is closed at once.
    /// </param>
    /// <remarks>
    /// Never waits for the upstream: a connection done with says QUIT in the background, and keeps
    /// its place in Relay:MaxConnections until it is closed (at most a few seconds).
    /// </remarks>
    public void Return(UpstreamConnection connection, bool reusable, bool quit = false)
    {
        connection.Messages++;
        connection.LastUsed = _time.GetUtcNow();
        var keep = reusable && !_disposed && !connection.Session.IsBroken && connection.Messages < _relay.MaxMessagesPerConnection;
        if (keep)
        {
            lock (_lock) _idle.Push(connection);
        }
        else if (!reusable && !quit)
        {
            connection.Dispose();
        }
        else
        {
            CloseInBackground(connection); // releases the slot when closed
            return;
        }
        _slots.Release();
    }

    private void CloseInBackground(UpstreamConnection connection)
    {
        var closing = CloseThenReleaseAsync(connection);
        lock (_lock) _closing[connection] = closing;
        _ = closing.ContinueWith(_ => { lock (_lock) _closing.Remove(connection); }, TaskScheduler.Default);
    }

    private async Task CloseThenReleaseAsync(UpstreamConnection connection)
    {
        try
        {
            await connection.CloseAsync();
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// At the stop: each idle connection says QUIT, and those already saying it finish, all within a
    /// few seconds; what has not said goodbye by then is closed without it, so none stays open.
    /// </summary>
    public void Dispose()
    {
        List<UpstreamConnection> idle;
        KeyValuePair<UpstreamConnection, Task>[] closing;
        lock (_lock)
        {
            _disposed = true;
            idle = [.. _idle];
            _idle.Clear();
            closing = [.. _closing];
        }
        Task.WaitAll([.. idle.Select(c => c.CloseAsync()), .. closing.Select(c => c.Value)], TimeSpan.FromSeconds(6));
        // A QUIT's own bound ends just before this one, but under load its end can come later.
        foreach (var connection in idle.Concat(closing.Select(c => c.Key))) connection.Dispose();
    }

    /// <summary>An idle connection still fit for use; those idle too long or closed by the upstream are dropped.</summary>
    private UpstreamConnection? TakeIdle()
    {
        var now = _time.GetUtcNow();
        var stale = new List<UpstreamConnection>();
        UpstreamConnection? found = null;
        lock (_lock)
        {
            while (found is null && _idle.TryPop(out var connection))
            {
                if (now - connection.LastUsed < _relay.IdleTimeout && connection.Session.IsOpenAtPeer()) found = connection;
                else stale.Add(connection);
            }
        }
        // Dropped without QUIT: their places in Relay:MaxConnections go to new connections at once,
        // and an upstream has usually closed one idle that long itself.
        foreach (var connection in stale) connection.Dispose();
        return found;
    }

    /// <summary>
    /// While an upstream is down every copy fails to connect: logged once per host per this
    /// interval, with how many failures were not (an outage at 160 copies a second wrote 36,000
    /// warnings in two minutes). Every deferral is in the audit log all the same.
    /// </summary>
    private static readonly TimeSpan FailureLogInterval = TimeSpan.FromSeconds(30);

    /// <summary>Per host that is failing: when a failure was last logged, and how many since were not.</summary>
    private readonly Dictionary<string, (DateTimeOffset Logged, int Unlogged)> _failing = [];

    private async Task<UpstreamConnection> OpenAsync(IEnumerable<UpstreamHost> hosts, CancellationToken cancellationToken)
    {
        Exception? last = null;
        var tried = _outages.InOrder(hosts);
        for (var i = 0; i < tried.Count; i++)
        {
            var host = tried[i];
            try
            {
                var connection = new UpstreamConnection(await OpenSessionAsync(host, cancellationToken), host, _time.GetUtcNow());
                _outages.Answered(host);
                Recovered(host.ToString());
                return connection;
            }
            // Unreachable, refusing, or failing TLS: the next host may do better.
            catch (Exception e) when (e is SocketException or IOException or System.Security.Authentication.AuthenticationException)
            {
                var next = i + 1 < tried.Count
                    ? $"trying {tried[i + 1]} next"
                    : "no other host to try (Relay:FallbackHosts): the copy's recipients are deferred and tried again at their next attempt (the audit's deferred lines)";
                if (GaveNoSession(e))
                {
                    var until = _outages.Failed(host);
                    if (_hosts.Count > 1) next += $"; new connections try {host} after the other hosts until {until.UtcDateTime:u}";
                }
                else _outages.Answered(host); // a refusal, but at once: the next connection may be taken
                Failed(host.ToString(), e.Message, next);
                last = e;
            }
        }
        throw last!;
    }

    /// <summary>
    /// A failure that says nothing of the host's will, and will likely cost the next connection as
    /// much: no connection (refused, or not accepted within Relay:Timeout), no reply within
    /// Relay:Timeout, a connection closed without a word, a TLS handshake that failed where
    /// Relay:TlsMode or Relay:Username make TLS a must (a bad certificate fails every handshake
    /// alike). Not a reply, whatever its code: a host that answers 421 at its greeting or refuses
    /// EHLO answered at once, and may take the next connection; nor a reply that breaks the protocol.
    /// </summary>
    private static bool GaveNoSession(Exception e) => e is not UpstreamProtocolException;

    private void Failed(string host, string reason, string next)
    {
        int unlogged;
        lock (_failing)
        {
            var now = _time.GetUtcNow();
            if (_failing.TryGetValue(host, out var state) && now - state.Logged < FailureLogInterval)
            {
                _failing[host] = state with { Unlogged = state.Unlogged + 1 };
                return;
            }
            unlogged = state.Unlogged;
            _failing[host] = (now, 0);
        }
        LogHostFailed(host, reason, unlogged == 0 ? next : $"{next}; {Counted.Of(unlogged, "failure", "failures")} more since the last such line");
    }

    private void Recovered(string host)
    {
        int unlogged;
        lock (_failing)
        {
            if (!_failing.Remove(host, out var state)) return;
            unlogged = state.Unlogged;
        }
        LogHostRecovered(host, unlogged);
    }

    /// <summary>
    /// A session with <paramref name="host"/>. Opportunistic TLS that the upstream refuses, or
    /// whose handshake fails (an upstream with a broken TLS set-up, or one too old for ours), is
    /// given up for that session, and the copy goes in clear, as it would to an upstream offering
    /// no STARTTLS: deferring every copy until its lifetime ends protects nothing that TLS
    /// without verification would.
    /// </summary>
    private Task<UpstreamSession> OpenSessionAsync(UpstreamHost host, CancellationToken cancellationToken) =>
        OpenSessionAsync(host, _settings, reason => LogTlsFallback(host.ToString(), reason), cancellationToken);

    /// <param name="inClear">Told why a session goes without the TLS the upstream offered.</param>
    internal static async Task<UpstreamSession> OpenSessionAsync(UpstreamHost host, UpstreamSettings settings, Action<string> inClear, CancellationToken cancellationToken)
    {
        try
        {
            var session = await UpstreamSession.OpenAsync(host, settings, cancellationToken);
            if (session.TlsDeclined is { } declined) inClear(declined);
            return session;
        }
        catch (UpstreamTlsException e) when (settings.TlsMode == RelayTlsMode.Opportunistic && string.IsNullOrEmpty(settings.Username)) // never credentials in clear
        {
            inClear(e.Message);
            return await UpstreamSession.OpenAsync(host, settings with { TlsMode = RelayTlsMode.None }, cancellationToken);
        }
    }

    [LoggerMessage(EventId = 5202, Level = LogLevel.Warning, Message = "{Reason}; relaying to {Host} without TLS for this connection, as Relay:TlsMode Opportunistic allows")]
    private partial void LogTlsFallback(string host, string reason);

    [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "Upstream {Host} unavailable ({Reason}); {Next}")]
    private partial void LogHostFailed(string host, string reason, string next);

    [LoggerMessage(EventId = 5203, Level = LogLevel.Information, Message = "Upstream {Host} answers again (failures not logged since the last warning: {Unlogged})")]
    private partial void LogHostRecovered(string host, int unlogged);
}
