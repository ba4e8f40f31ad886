using Gateway.Policy;

namespace Gateway.Pipeline;

/// <summary>
/// The top-level header block of a spooled message, read once per attempt: the raw bytes (so the
/// trigger marks can be removed without touching anything else) and the facts policy looks at.
/// Only the header block is read, never the body.
/// </summary>
public sealed record MessageHeaders(string? MessageId, MessageFacts Facts, byte[] Block)
{
    /// <summary>A header block larger than this is not a real one; policy then sees no facts.</summary>
    private const int MaximumBlock = 1024 * 1024;

    public string? Subject => Facts.Subject;

    /// <remarks>Synchronous, like every spool read and write (see Spool.DurableFile.WriteAllBytes).</remarks>
    public static MessageHeaders Read(Spool.SpooledContent content)
    {
        using var stream = content.OpenRead();
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        while (buffer.Length < MaximumBlock)
        {
            var read = stream.Read(chunk);
            if (read == 0) break;
            buffer.Write(chunk, 0, read);
            if (TriggerStripper.BodyOffset(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)) >= 0) break;
        }
        var all = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        var end = TriggerStripper.BodyOffset(all);
        // A message without a body separator is all header; one past the cap is treated as having none.
        var block = end >= 0 ? all[..end].ToArray() : buffer.Length < MaximumBlock ? all.ToArray() : [];
        var facts = MessageFacts.Parse(block);
        return new MessageHeaders(facts.Header("Message-ID")?.Trim(), facts, block);
    }
}
