using System.Text.Json;
using Gateway.Configuration;
using Gateway.Spool;
using Microsoft.Extensions.Options;

namespace Gateway.Relay;

/// <summary>
/// The embedded default when no upstream is configured: each copy becomes <c>NAME.eml</c> in the
/// outbox folder, with its envelope beside it in <c>NAME.envelope.json</c>. Written under a
/// temporary name and renamed, so a reader never sees half a file.
/// </summary>
public sealed class OutboxRelay(IOptions<GatewayOptions> options) : IRelay
{
    private readonly string _outbox = Path.GetFullPath(options.Value.Relay.Outbox);

    public async Task<IReadOnlyList<RecipientRelayResult>> SendAsync(string copyName, string mailFrom, IReadOnlyList<string> recipients, Stream content, DsnParameters? dsn, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_outbox);
        var target = Path.Combine(_outbox, copyName + ".eml");
        var temporary = target + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
        {
            await content.CopyToAsync(file, cancellationToken);
            file.Flush(flushToDisk: true);
        }
        var envelope = JsonSerializer.SerializeToUtf8Bytes(new { mailFrom, recipients, envelopeId = dsn?.EnvelopeId, ret = dsn?.Return, recipientDsn = dsn?.Recipients }, SpoolJson.Options);
        DurableFile.Replace(Path.Combine(_outbox, copyName + ".envelope.json"), envelope);
        File.Move(temporary, target, overwrite: true);
        DurableFile.SyncDirectory(_outbox);
        var reply = $"250 2.0.0 written to outbox as {copyName}.eml";
        return recipients.Select(r => new RecipientRelayResult(r, RelayOutcome.Accepted, reply)).ToList();
    }
}
