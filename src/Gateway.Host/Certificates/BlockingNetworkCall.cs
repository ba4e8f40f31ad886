namespace Gateway.Certificates;

/// <summary>
/// Runs a call that blocks its thread on the network (the OpenLDAP client, .NET's chain engine
/// fetching a CRL or an OCSP answer) on a thread of its own, never on a pool thread. A directory
/// or responder that accepts connections and never answers held a pool thread per call for its
/// whole timeout: with 4 such calls on this 2-core machine the pool ran out of threads, and an
/// unrelated client waited 3.4 s for a reply to its DATA (LDAP Timeout 3 s; measured with a
/// listener that accepts and never answers). Thread creation costs microseconds; these calls
/// are behind the certificate cache and take milliseconds at best.
/// </summary>
public static class BlockingNetworkCall
{
    public static Task<T> RunAsync<T>(Func<T> operation, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(operation, cancellationToken, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
}
