using System.Buffers;
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

    public static MessageHeaders Read(Spool.SpooledContent content)
    {
        var block = content.Memory is { } bytes ? BlockOf(bytes.Span, complete: true) : ReadBlock(content);
        var facts = MessageFacts.Parse(block);
        return new MessageHeaders(facts.Header("Message-ID")?.Trim(), facts, block);
    }

    /// <summary>
    /// The header block at the start of <paramref name="message"/> (all of it, or its first
    /// bytes when not <paramref name="complete"/>). A message without a body separator is all
    /// header; one with none within <see cref="MaximumBlock"/> bytes is treated as having none.
    /// </summary>
    private static byte[] BlockOf(ReadOnlySpan<byte> message, bool complete)
    {
        var window = message.Length > MaximumBlock ? message[..MaximumBlock] : message;
        var end = TriggerStripper.BodyOffset(window);
        if (end >= 0) return window[..end].ToArray();
        return complete && message.Length < MaximumBlock ? message.ToArray() : [];
    }

    /// <remarks>Synchronous, like every spool read and write (see Spool.DurableFile.WriteAllBytes).</remarks>
    private static byte[] ReadBlock(Spool.SpooledContent content)
    {
        using var stream = content.OpenRead();
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= MaximumBlock) break;
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
                    buffer = larger;
                }
                var read = stream.Read(buffer, length, buffer.Length - length);
                if (read == 0) return BlockOf(buffer.AsSpan(0, length), complete: true);
                length += read;
                if (TriggerStripper.BodyOffset(buffer.AsSpan(0, length)) >= 0) break;
            }
            return BlockOf(buffer.AsSpan(0, length), complete: false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held mail
        }
    }
}
