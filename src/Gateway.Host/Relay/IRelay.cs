using Gateway.Spool;

namespace Gateway.Relay;

/// <summary>Hands one copy to the next hop. The envelope comes from the spool, never from headers.</summary>
public interface IRelay
{
    /// <param name="copyName">Unique name of this copy (spool id and copy number), for logs and the outbox.</param>
    /// <param name="dsn">The client's ENVID and RET, and NOTIFY per recipient in the order of <paramref name="recipients"/>, passed on when the upstream offers DSN.</param>
    Task<IReadOnlyList<RecipientRelayResult>> SendAsync(string copyName, string mailFrom, IReadOnlyList<string> recipients, Stream content, DsnParameters? dsn, CancellationToken cancellationToken);
}
