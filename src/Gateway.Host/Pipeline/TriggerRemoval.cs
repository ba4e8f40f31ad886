using Gateway.Policy;
using Gateway.Spool;

namespace Gateway.Pipeline;

/// <summary>
/// Writes the message without its trigger marks and its Bcc and Resent-Bcc fields
/// (<see cref="Mail.BccFields"/>) to spool/work, once per attempt, so every copy (the unchanged
/// ones too) leaves without them. The body is streamed across unchanged.
/// </summary>
public static class TriggerRemoval
{
    /// <returns>The work file to send from, or null when the spooled bytes can go as they are.</returns>
    public static async Task<SpooledContent?> PrepareAsync(FileSpool spool, ProcessingContext context, CancellationToken cancellationToken)
    {
        var block = context.Headers.Block;
        var withoutMarks = context.Policy.Triggers is { } triggers
            ? TriggerStripper.Strip(block, triggers, removeSubjectTag: triggers.MayUse(context.Entry.MailFrom))
            : null;
        var stripped = Mail.BccFields.Drop(withoutMarks ?? block) ?? withoutMarks;
        if (stripped is null) return null;

        var path = spool.NewWorkFile(context.Entry.Id, 0);
        try
        {
            await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024))
            await using (var original = context.Content.OpenRead())
            {
                await output.WriteAsync(stripped, cancellationToken);
                original.Position = block.Length;
                await original.CopyToAsync(output, cancellationToken);
            }
        }
        catch
        {
            // Not the attempt's source yet, so its cleanup would not find it: a plaintext part per failed attempt.
            try { File.Delete(path); } catch (IOException) { }
            throw;
        }
        return SpooledContent.InWorkFile(path);
    }
}
