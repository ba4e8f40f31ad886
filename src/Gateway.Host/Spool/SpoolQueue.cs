using System.Threading.Channels;

namespace Gateway.Spool;

/// <summary>Ids of spool entries ready for a worker. The spool on disk is the truth; this is only the order of work.</summary>
public sealed class SpoolQueue
{
    private readonly Channel<string> _ready = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = false });

    public void Enqueue(string id) => _ready.Writer.TryWrite(id);

    public ChannelReader<string> Reader => _ready.Reader;
}
