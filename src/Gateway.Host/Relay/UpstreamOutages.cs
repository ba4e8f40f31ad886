namespace Gateway.Relay;

/// <summary>
/// The upstream hosts that lately gave no session at all, each tried after the others for three
/// times Relay:Timeout, as a silent LDAP directory or CRL server is left alone
/// (<see cref="Certificates.LdapCertificateSource"/>). Without it a Relay:Host that accepts and
/// never answers cost every new connection a whole Relay:Timeout before the fallback took it:
/// each time the pool refilled (Relay:IdleTimeout, Relay:MaxMessagesPerConnection), the copies
/// waiting for those connections stalled together.
/// <para>
/// What counts is the pool's to say (<see cref="UpstreamPool"/>): no connection, no reply in
/// time, a connection closed, a TLS handshake that fails where that ends the session. A host
/// that answers, even with a refusal (a 421 greeting), answered at once and is not remembered.
/// </para>
/// <para>
/// In their quiet time hosts are tried last, never left out: when every host is in one they are
/// all tried in order, as before, so no copy is deferred on the memory of a failure without a
/// host asked. The first to answer ends its quiet time. When it is over, one new connection asks
/// the host again, and the others opened meanwhile keep to the other hosts until that one has its
/// answer: the pool refills several connections at once, and each would wait a Relay:Timeout.
/// </para>
/// </summary>
internal sealed class UpstreamOutages(TimeSpan quietTime, TimeProvider time)
{
    private readonly Dictionary<UpstreamHost, DateTimeOffset> _quietUntil = [];

    /// <summary>
    /// The hosts to try, in order: those not in a quiet time as configured, then those in one. A
    /// host whose quiet time is over is this caller's to ask, and starts another for the others.
    /// </summary>
    public List<UpstreamHost> InOrder(IEnumerable<UpstreamHost> hosts)
    {
        var now = time.GetUtcNow();
        var answering = new List<UpstreamHost>();
        var quiet = new List<UpstreamHost>();
        lock (_quietUntil)
        {
            foreach (var host in hosts)
            {
                if (_quietUntil.TryGetValue(host, out var until))
                {
                    if (now < until)
                    {
                        quiet.Add(host);
                        continue;
                    }
                    // Ended by its answer or failure; if this connection never gets that far (a host
                    // before it answered, the copy was cancelled), it stays after the others one
                    // more quiet time, which changes nothing while they answer.
                    _quietUntil[host] = now + quietTime;
                }
                answering.Add(host);
            }
        }
        return [.. answering, .. quiet];
    }

    /// <summary>Starts, or starts again, the quiet time of <paramref name="host"/>; returns its end.</summary>
    public DateTimeOffset Failed(UpstreamHost host)
    {
        var until = time.GetUtcNow() + quietTime;
        lock (_quietUntil) _quietUntil[host] = until;
        return until;
    }

    public void Answered(UpstreamHost host)
    {
        lock (_quietUntil) _quietUntil.Remove(host);
    }
}
