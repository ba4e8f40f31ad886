using Gateway.Configuration;
using Gateway.Spool;

namespace Gateway.Pipeline;

/// <summary>
/// File descriptors delivery holds at most, by the settings: one per upstream connection
/// (Relay:MaxConnections, shared by all upstream hosts; one closing after its QUIT keeps its place
/// until it is closed), <see cref="PerWorker"/> per worker and <see cref="WorkFiles.PerTransform"/>
/// per copy being made. Before they were counted, 256 upstream connections and their workers could
/// take 1,800 descriptors that the SMTP listener's cap took to be free.
/// </summary>
public static class DeliveryDescriptors
{
    /// <summary>
    /// A worker holds the copy it relays (a spooled message, or a work file) and, while making a
    /// copy, the message it reads; or the two files of a report it queues.
    /// </summary>
    public const int PerWorker = 2;

    public static int For(GatewayOptions options)
    {
        var (spool, relay) = (options.Spool, options.Relay);
        return relay.MaxConnections + PerWorker * spool.EffectiveWorkers(relay) + WorkFiles.PerTransform * spool.EffectiveTransforms(relay);
    }
}
