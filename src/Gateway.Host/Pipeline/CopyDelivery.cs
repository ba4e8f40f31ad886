using Gateway.Audit;
using Gateway.Configuration;
using Gateway.Mail;
using Gateway.Outcomes;
using Gateway.Relay;
using Gateway.Smime;
using Gateway.Spool;
using Microsoft.Extensions.Options;

namespace Gateway.Pipeline;

/// <summary>
/// Makes the copy for one treatment group and relays it to exactly that group's recipients.
/// An unchanged copy is the spooled bytes as they are; a signed or encrypted one is made in
/// memory when the message is small and in spool/work otherwise, so a 50 MB message is streamed,
/// not held twice in memory.
/// </summary>
public sealed class CopyDelivery(FileSpool spool, IRelay relay, TransformSlots transforms, CopyBuffers buffers, IAuditLog audit, IOptions<GatewayOptions> options, TimeProvider time)
{
    /// <summary>Replies may come in AES-GCM or with RSA-OAEP when the inbound endpoint decrypts them for our users: our signatures then say so.</summary>
    private readonly bool _decryptsReplies = options.Value.Harvest is { Enabled: true, Decrypt: true };

    /// <summary>
    /// Messages up to this size get their signed or encrypted copy, and the intermediate copies
    /// signing and encrypting make, in memory (a few times this per copy being made, and the copy
    /// while it is relayed, within what <see cref="CopyBuffers"/> lends): a work file per
    /// copy was a file created and deleted per message, and creating files is what costs most on a
    /// busy spool's file system. Larger ones go through spool/work, so memory does not grow with them.
    /// </summary>
    private const long InMemoryCopyLimit = 1024 * 1024;

    public async Task DeliverAsync(ProcessingContext context, DeliveryPlan plan, DeliveryGroup group, CancellationToken cancellationToken)
    {
        var entry = context.Entry;
        var recipients = group.Recipients.Select(r => r.Address).ToList();
        var copyName = $"{entry.Id}-{entry.Attempts}-{group.Number}";
        SmimeResult? smime = null;
        Stream content;
        if (group.Sign || group.Encrypt)
        {
            // Made before the copy is opened: nothing may throw between that and the try that disposes it.
            var request = new SmimeRequest(
                group.Sign ? plan.Signer!.Selected!.Certificate : null,
                group.Sign ? plan.Signer!.ChainWithoutRoot : [],
                // Every current certificate of each recipient, once each (one certificate may name two of them).
                group.Encrypt ? group.Recipients.SelectMany(r => r.Certificate!.ForEncryption).DistinctBy(c => c.Thumbprint).ToList() : [],
                group.Crypto)
            {
                // The transformation's own intermediate copies follow the same rule as the copy itself.
                Scratch = size => NewCopy(size, "smime-scratch"),
                // Only when the key replies are encrypted to is one Gateway holds: a user's own client may not read GCM or OAEP.
                DecryptsReplies = _decryptsReplies && group.Sign && plan.Signer!.ReplyKeyHeld,
                ReplyCertificateChain = group.Sign ? plan.Signer!.ReplyChain : null,
            };
            // The slot covers the making alone: the copy is relayed without it, however long the upstream takes.
            using (await transforms.EnterAsync(context.Source.Length > InMemoryCopyLimit, cancellationToken))
            {
                // Synchronous streams: see Spool.DurableFile.WriteAllBytes.
                using var original = context.Source.OpenRead();
                content = NewCopy(original.Length, "smime-copy");
                try
                {
                    smime = SmimeTransformer.Transform(original, request, content, time.GetUtcNow(), cancellationToken);
                    content.Position = 0;
                }
                catch
                {
                    content.Dispose();
                    throw;
                }
            }
        }
        else
        {
            content = context.Source.OpenRead();
        }
        IReadOnlyList<RecipientRelayResult> results;
        await using (content)
            results = await relay.SendAsync(copyName, entry.MailFrom, recipients, content, Dsn(context, recipients), cancellationToken);

        // Every recipient's state first, then the lines: an audit line that cannot be written stops
        // the attempt, and a recipient the upstream accepted must be saved as delivered all the same,
        // or the next attempt sends it a second copy.
        foreach (var result in results)
        {
            var state = context.Recipient(result.Recipient);
            if (result.Outcome == RelayOutcome.Permanent)
                context.Fail(state, SmtpReply.Parse(result.Reply), "The receiving mail server refused the message for this recipient.", result.Reply, mayReturnContent: !group.Encrypt);
            else if (result.Outcome == RelayOutcome.Accepted)
                context.Deliver(state, result.Reply, reportSuccess: !result.DsnPassedOn);
            else
                context.Update(state, RecipientStatus.Deferred, result.Reply);
        }
        foreach (var result in results)
        {
            var name = result.Outcome switch
            {
                RelayOutcome.Accepted => "delivered",
                RelayOutcome.Permanent => "failed",
                _ => "deferred",
            };
            await audit.WriteAsync(context.Event(name) with
            {
                Recipient = result.Recipient,
                Rule = group.Recipients.First(r => r.Address == result.Recipient).Policy.RuleName,
                Action = smime is null ? "relayed unchanged" : Describe(smime),
                Copy = group.Number,
                Reply = result.Reply,
                Upstream = result.Upstream,
                Tls = result.Tls,
                SignerCertificate = smime?.SignerThumbprint,
                RecipientCertificates = smime?.RecipientThumbprints is { Count: > 0 } thumbprints ? thumbprints : null,
                Algorithms = smime?.Algorithms,
                Reason = smime?.Note,
            }, cancellationToken);
        }
    }

    /// <summary>
    /// A copy of about <paramref name="size"/> bytes: pooled memory when small and the pool has room
    /// (copies many upstream connections sit on must not take memory without bound), else a work
    /// file emptied when the copy is disposed.
    /// </summary>
    private Stream NewCopy(long size, string tag) => size <= InMemoryCopyLimit && buffers.HasRoomFor(size) ? buffers.Rent(tag) : spool.WorkFiles.Open();

    /// <summary>What the client asked, for this copy's recipients in their order.</summary>
    private static DsnParameters? Dsn(ProcessingContext context, IReadOnlyList<string> recipients)
    {
        var entry = context.Entry;
        var perRecipient = recipients.Select(r => context.Recipient(r) is { Notify: var notify, OriginalRecipient: var original } && (notify is not null || original is not null)
            ? new RecipientDsn(notify, original)
            : null).ToList();
        var any = perRecipient.Any(r => r is not null);
        return entry.EnvelopeId is null && entry.Return is null && !any ? null : new DsnParameters(entry.EnvelopeId, entry.Return, any ? perRecipient : null);
    }

    private static string Describe(SmimeResult result) => (result.Signed, result.Encrypted) switch
    {
        (true, true) => "signed+encrypted",
        (false, true) => "encrypted",
        (true, false) => "signed",
        _ => "relayed unchanged",
    };
}
