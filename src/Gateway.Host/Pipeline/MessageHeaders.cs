using MimeKit;

namespace Gateway.Pipeline;

/// <summary>The few header values the audit log names. Only the header block is read, never the body.</summary>
public sealed record MessageHeaders(string? MessageId, string? Subject)
{
    public static async Task<MessageHeaders> ReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = File.OpenRead(path);
            var headers = await HeaderList.LoadAsync(stream, cancellationToken);
            return new MessageHeaders(headers[HeaderId.MessageId]?.Trim(), headers[HeaderId.Subject]);
        }
        catch (FormatException)
        {
            // A message with a broken header block is still processed; it just has no Message-ID to name.
            return new MessageHeaders(null, null);
        }
    }
}
