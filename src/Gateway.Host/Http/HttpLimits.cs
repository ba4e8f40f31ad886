namespace Gateway.Http;

/// <summary>
/// What one client, or all of them, may hold of a <see cref="ReadOnlyHttpServer"/>. The CRL
/// endpoint faces the internet; each connection costs a file descriptor, so without these a peer
/// that opened connections and never finished a request took all of the process's descriptors
/// and the runtime aborted the gateway, mail and all.
/// </summary>
public sealed record HttpLimits
{
    public static readonly HttpLimits Default = new();

    /// <summary>Connections open at once; one more is closed as soon as it is accepted.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>Connections open at once from one address (an IPv6 client: from one /64, <see cref="HttpClientKey"/>), so one host cannot take all of <see cref="MaxConnections"/>.</summary>
    public int MaxConnectionsPerClient { get; init; } = 8;

    /// <summary>From the accept to the end of the request's headers.</summary>
    public TimeSpan HeadDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>For the whole answer to be taken by the client.</summary>
    public TimeSpan WriteDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Request line and headers together; a longer head is answered 431.</summary>
    public int MaxHeadBytes { get; init; } = 8192;
}
