using System.Text;
using Gateway.Spool;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Spool;

/// <summary>Copies parked in hold/: each keeps its recipients until released, whatever is held after it.</summary>
public sealed class HoldCopyTests : JournalTestFolder
{
    /// <summary>
    /// Copies were named ID-N after the attempt, and written over when the name was taken: an attempt
    /// that held twice (the policy's hold, then a processing failure's), or an entry an admin held and
    /// released (its attempts count from 0 again), lost the recipients of the first copy.
    /// </summary>
    [Fact]
    public async Task SecondHoldInTheSameAttempt_GetsACopyOfItsOwn_AndTheFirstKeepsItsRecipient()
    {
        var spool = NewSpool();
        var content = Path.Combine(Root, "message.eml");
        await File.WriteAllTextAsync(content, "From: <alice@example.test>\r\nSubject: held twice\r\n\r\nbody\r\n", Encoding.ASCII);
        var envelope = new SpoolEnvelope
        {
            Id = SpoolId.New(DateTimeOffset.UtcNow), MailFrom = "alice@example.test", Client = "127.0.0.1", ReceivedAt = DateTimeOffset.UtcNow, Attempts = 1,
            Recipients = [new SpoolRecipient { Address = "bob@partner.test" }, new SpoolRecipient { Address = "carol@partner.test" }],
        };

        var first = await spool.HoldAsync(envelope, SpooledContent.InFile(content), [envelope.Recipients[0]], "no certificate", CancellationToken.None);
        var second = await spool.HoldAsync(envelope, SpooledContent.InFile(content), [envelope.Recipients[1]], "processing failed", CancellationToken.None);
        envelope.Attempts = 0; // released by an admin: counted from the start again
        var third = await spool.HoldAsync(envelope, SpooledContent.InFile(content), [envelope.Recipients[1]], "no certificate", CancellationToken.None);

        Assert.Equal(3, new[] { first, second, third }.Distinct().Count());
        Assert.Equal("bob@partner.test", Assert.Single(spool.TryLoadHeld(first)!.Recipients).Address);
        Assert.Equal("carol@partner.test", Assert.Single(spool.TryLoadHeld(second)!.Recipients).Address);
        Assert.Equal("carol@partner.test", Assert.Single(spool.TryLoadHeld(third)!.Recipients).Address);
        Assert.All(new[] { first, second, third }, name => Assert.Contains("held twice", File.ReadAllText(spool.HeldContentPath(name))));
    }
}
