using System.Buffers;
using System.Text;
using Gateway.Audit;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Inbound;
using Gateway.Mail;
using Gateway.Outcomes;
using Gateway.Policy;
using Gateway.Smtp;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Gateway.Harvest;

/// <summary>
/// DATA on the inbound endpoint: a message encrypted to keys Gateway holds for all its recipients
/// is decrypted (<see cref="EnvelopeOpener"/>; Harvest:Decrypt); a signed message's signature is
/// verified and its sender's certificate to encrypt to stored for the sender's address (source
/// "harvested", <see cref="SignatureHarvester"/>), the inner signature of a decrypted one included; then the message goes on, otherwise unchanged.
/// Whatever the signature says, the message itself is never held back here. Like any relay it
/// puts its Received line on top and refuses a message with more than Smtp:MaxHops of them (a loop).
/// </summary>
/// <param name="keys">Null when Harvest:Decrypt is off.</param>
internal sealed partial class HarvestingMessageStore(HarvestOptions options, long maxMessageSize, int maxHops, string serverName, LocalCertificateStore local, CertificateCache cache,
    HeldIdentities? keys, IAuditLog audit, TimeProvider time, ILogger logger) : IMessageStore
{
    private readonly InboundForwarder _forwarder = new(options, serverName);

    // The hop count only: the header size is the edge MTA's to limit, and our loop marker is the outbound endpoint's.
    private readonly DataScreenLimits _hops = new(RejectBareLineFeed: false, MaxHeaderSize: int.MaxValue, maxHops, MaxLoopMarkers: int.MaxValue, serverName);

    public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        // The command reader puts one CRLF before the data (see SpoolingMessageStore); SMTP's final CRLF is restored.
        if (buffer.Length >= 2) buffer = buffer.Slice(2);
        var client = SpoolingMessageStore.ClientAddress(context);
        var from = Smtp.EnvelopeAddress.SenderOf(context, transaction.From);
        var recipients = transaction.To.Select(t => Smtp.EnvelopeAddress.RecipientOf(context, t)).ToList();
        Task<SmtpResponse> TooLarge(long size) => RefuseAsync(MessageSize.Reply, MessageSize.AuditReason("inbound endpoint: "), size, client, from, recipients);
        if (MessageSize.Exceeds(buffer.Length, maxMessageSize)) return await TooLarge(buffer.Length + 2);
        // SMTP smuggling: an internal MTA that takes a bare CR (or LF) for a line end would find a
        // second message, from anyone, behind a false end of data, and take it from us, trusted. A
        // bare LF is made CRLF (senders on the internet send it, Postfix's default normalises it),
        // after which a line "." is a line like any other and is dot-stuffed on the way on; a bare
        // CR is nobody's line end and is refused.
        var lineEnds = DataScreen.CheckLineEnds(buffer, rejectBareLineFeed: true);
        if (lineEnds == FailureKind.BareCarriageReturn)
        {
            var reply = Failures.Reply(FailureKind.BareCarriageReturn);
            return await RefuseAsync(reply, "inbound endpoint: " + reply.Text, buffer.Length + 2, client, from, recipients);
        }
        if (DataScreen.CheckHeaders(buffer, _hops) is { } loop)
        {
            var reply = Failures.Reply(loop);
            return await RefuseAsync(reply, "inbound endpoint: " + reply.Text, buffer.Length + 2, client, from, recipients);
        }
        // Above the first header, outside anything signed; a decrypted message keeps it with the other outer headers.
        var trace = Encoding.ASCII.GetBytes(ReceivedLine.Of(context, client, serverName, null, time.GetUtcNow()));
        var message = new byte[trace.Length + buffer.Length + 2];
        trace.CopyTo(message, 0);
        buffer.CopyTo(message.AsSpan(trace.Length));
        message[^2] = (byte)'\r';
        message[^1] = (byte)'\n';
        if (lineEnds == FailureKind.BareLineFeed)
        {
            message = LineEnds.ToCrlf(message);
            // Each LF made CRLF adds a byte: the internal MTA would refuse it after the dot instead.
            if (MessageSize.Exceeds(message.Length - trace.Length - 2, maxMessageSize)) return await TooLarge(message.Length - trace.Length);
        }

        // Whatever else happens: a sender must not make a message look decrypted by us.
        message = EnvelopeOpener.WithoutMarker(message);
        // Sessions run side by side: the Message-ID is what ties their lines to one message.
        var messageId = MessageIdOf(message);
        if (keys is not null) message = await DecryptAsync(message, messageId, client, from, recipients);
        await HarvestAsync(message, client, from);
        var (code, text) = await _forwarder.ForwardAsync(message, from, recipients, CancellationToken.None);
        // The internal MTA has answered: a log that cannot be written must not make that answer a lie.
        await audit.TryWriteAsync(new AuditEvent("inbound-passed")
        {
            MessageId = messageId, Client = client, Sender = from, Recipients = recipients, Size = message.Length, Reply = $"{code} {text}", Action = code < 300 ? "passed on" : "refused",
        });
        return new SmtpResponse((SmtpReplyCode)code, text);
    }

    private async Task<SmtpResponse> RefuseAsync(SmtpReply reply, string reason, long size, string client, string from, IReadOnlyList<string> recipients)
    {
        await audit.TryWriteAsync(new AuditEvent("message-refused")
        {
            Client = client, Sender = from, Recipients = recipients, Size = size, Action = "refused", Reason = reason, Reply = reply.ToString(),
        });
        return reply.ToResponse();
    }

    /// <summary>The outer header block's Message-ID (the one the sender's client and the internal MTA log), if any.</summary>
    private static string? MessageIdOf(byte[] message)
    {
        var end = TriggerStripper.BodyOffset(message);
        return MessageFacts.Parse(end >= 0 ? message.AsSpan(0, end) : message).Header("Message-ID")?.Trim();
    }

    private async Task<byte[]> DecryptAsync(byte[] message, string? messageId, string client, string from, IReadOnlyList<string> recipients)
    {
        DecryptionResult result;
        try
        {
            result = EnvelopeOpener.Open(message, recipients, keys!.For, serverName, requireSignature: !options.DecryptUnsigned);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A key file that cannot be read (or anything unforeseen) must not stop the mail, nor
            // turn into SmtpServer's 554: it goes on as it came.
            LogDecryptionFailed(e, from);
            await audit.TryWriteAsync(new AuditEvent("inbound-not-decrypted")
            {
                MessageId = messageId, Client = client, Sender = from, Recipients = recipients, Action = "passed on encrypted", Reason = $"not decrypted: {e.GetType().Name}: {e.Message}",
            });
            return message;
        }
        var line = result.Outcome switch
        {
            DecryptionOutcome.Decrypted => new AuditEvent("inbound-decrypted")
            {
                Action = "decrypted", RecipientCertificates = [result.Key!.Thumbprint], Algorithms = result.Algorithms,
            },
            DecryptionOutcome.NotForOurKeys or DecryptionOutcome.NotSigned or DecryptionOutcome.Unreadable => new AuditEvent("inbound-not-decrypted")
            {
                Action = "passed on encrypted", Reason = result.Reason, RecipientCertificates = result.Key is null ? null : [result.Key.Thumbprint], Algorithms = result.Algorithms,
            },
            _ => null,
        };
        // The sender wrote what is inside the envelope too: what SMTP cannot carry (a bare CR
        // above all) must not reach the internal MTA either, so such a message goes on as it came,
        // encrypted (ForwardableContent).
        // A message passed on encrypted tells its reader why in a header (the audit has the detail).
        var forwarded = result.Outcome is DecryptionOutcome.Decrypted or DecryptionOutcome.NotEncrypted
            ? result.Message
            : EnvelopeOpener.MarkedNotDecrypted(result.Message, serverName, EnvelopeOpener.NotDecryptedReason(result.Outcome));
        if (result.Outcome == DecryptionOutcome.Decrypted && ForwardableContent.Problem(result.Message, maxMessageSize) is { } unfit)
        {
            line = new AuditEvent("inbound-not-decrypted")
            {
                Action = "passed on encrypted", Reason = unfit.Detail, RecipientCertificates = [result.Key!.Thumbprint], Algorithms = result.Algorithms,
            };
            forwarded = EnvelopeOpener.MarkedNotDecrypted(message, serverName, unfit.Short);
        }
        if (line is not null) await audit.TryWriteAsync(line with { MessageId = messageId, Client = client, Sender = from, Recipients = recipients });
        return forwarded;
    }

    private async Task HarvestAsync(byte[] message, string client, string from)
    {
        try
        {
            var result = SignatureHarvester.Harvest(message, local.Trust);
            var notStored = result.Accepted ? cache.RememberHarvest(result) : null;
            if (notStored is not null)
            {
                await audit.TryWriteAsync(new AuditEvent("certificate-not-harvested")
                {
                    Client = client, Sender = from, Recipient = result.Address, SignerCertificate = result.Signer!.Thumbprint, Reason = notStored,
                });
            }
            else if (result.Accepted)
            {
                await audit.TryWriteAsync(new AuditEvent("certificate-harvested")
                {
                    Client = client, Sender = from, Recipient = result.Address, SignerCertificate = result.Signer!.Thumbprint, CertificateSource = HarvestedCertificateSource.SourceName,
                    RecipientCertificates = result.EncryptionCertificates.Select(c => c.Thumbprint).ToList(),
                });
            }
            else if (result.Signer is not null)
            {
                await audit.TryWriteAsync(new AuditEvent("certificate-not-harvested")
                {
                    Client = client, Sender = from, Recipient = result.Address, SignerCertificate = result.Signer.Thumbprint, Reason = string.Join("; ", result.Problems),
                });
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Harvesting is a side effect: a message it cannot read still goes on to its mailbox.
            LogHarvestFailed(e, from);
        }
    }

    [LoggerMessage(EventId = 6004, Level = LogLevel.Error, Message = "Could not decrypt a message of {Sender}; passed on as it came")]
    private partial void LogDecryptionFailed(Exception exception, string sender);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Could not harvest from a message of {Sender}; passed on unchanged")]
    private partial void LogHarvestFailed(Exception exception, string sender);
}
