using System.Collections.Concurrent;
using System.Text.Json;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;
using SmtpServer.Protocol;

namespace Gateway.Tests.Relay;

/// <summary>
/// The upstream says no, for a while or for good, for the whole message or one recipient:
/// temporary failures are retried for exactly the recipients that failed, permanent ones are
/// recorded once and never retried, and nobody who accepted gets the message twice.
/// </summary>
public sealed class RelayFaultTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string Alice = "alice@example.test";
    private const string Bob = "bob@partner.test";
    private const string Carol = "carol@partner.test";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private readonly GatewayWorld _world = new();
    private readonly ConcurrentDictionary<string, int> _rcptAttempts = new(StringComparer.OrdinalIgnoreCase);
    private CapturingSmtpSink _sink = null!;
    private RunningGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _sink = await CapturingSmtpSink.StartAsync();
        _world.Settings["Gateway:Relay:Host"] = "127.0.0.1";
        _world.Settings["Gateway:Relay:Port"] = _sink.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _world.Settings["Gateway:Relay:TlsMode"] = "None";
        _gateway = await RunningGateway.StartAsync(_world);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _sink.DisposeAsync();
        _world.Dispose();
    }

    /// <summary>Counts every RCPT per address, then answers what <paramref name="reply"/> says for that attempt (null accepts).</summary>
    private void AnswerRcpt(Func<string, int, SmtpResponse?> reply) =>
        _sink.OnRcpt = address => reply(address, _rcptAttempts.AddOrUpdate(address, 1, (_, n) => n + 1));

    private int RcptAttempts(string address) => _rcptAttempts.GetValueOrDefault(address);

    private static string? Reply(JsonElement e) => e.TryGetProperty("reply", out var r) ? r.GetString() : null;

    [Fact]
    public async Task TemporaryRejectionOfData_IsRetried_AndTheMessageIsDeliveredOnALaterAttempt()
    {
        var dataAttempts = 0;
        _sink.OnData = _ => Interlocked.Increment(ref dataAttempts) == 1 ? new SmtpResponse((SmtpReplyCode)451, "4.3.0 try again later") : null;

        await _gateway.SendAsync(RunningGateway.NewMessage(Alice, Bob, "data deferred once"), Alice, Bob);

        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"), Wait);
        var events = _gateway.AuditEvents().ToList();
        var deferred = events.FindIndex(e => RunningGateway.Is(e, "deferred", Bob));
        var delivered = events.FindIndex(e => RunningGateway.Is(e, "delivered", Bob));
        Assert.True(deferred >= 0, "no 'deferred' audit event for bob");
        Assert.True(delivered > deferred, "'delivered' must follow 'deferred'");
        Assert.StartsWith("451", Reply(events[deferred]));
        Assert.Equal(2, Volatile.Read(ref dataAttempts));
        var message = Assert.Single(_sink.Messages);
        Assert.Equal([Bob], message.RcptTo);
        Assert.Equal("data deferred once", message.Parse().Subject);
    }

    [Fact]
    public async Task PermanentRejectionOfOneRecipient_IsRecordedAsFailed_NeverRetried_AndTheOtherIsDeliveredOnce()
    {
        AnswerRcpt((address, _) => address.Equals(Carol, StringComparison.OrdinalIgnoreCase)
            ? new SmtpResponse((SmtpReplyCode)550, "5.1.1 no such user here")
            : null);

        await _gateway.SendAsync(RunningGateway.NewMessage(Alice, Bob, "carol is unknown upstream"), Alice, Bob, Carol);

        var failed = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "failed", Carol), Wait);
        Assert.StartsWith("550", Reply(failed));
        Assert.Contains("5.1.1 no such user here", Reply(failed));
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Bob), Wait);

        // FirstRetry is 1 s and MaxRetryInterval 2 s: any retry of carol would show within this window.
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal(1, RcptAttempts(Carol));
        Assert.Equal(1, RcptAttempts(Bob));
        var message = Assert.Single(_sink.Messages, m => m.MailFrom == Alice);
        Assert.Equal([Bob], message.RcptTo);
        // The sender is told, once, by a bounce with the null sender that names carol and the upstream's reply.
        var bounce = Assert.Single(_sink.Messages, m => m.MailFrom == "");
        Assert.Equal([Alice], bounce.RcptTo);
        var bounceText = System.Text.Encoding.ASCII.GetString(bounce.Data);
        Assert.Contains("Final-Recipient: rfc822; " + Carol, bounceText);
        Assert.Contains("5.1.1", bounceText);
        Assert.Single(_gateway.AuditEvents(), e => RunningGateway.Is(e, "failed", Carol));
        Assert.DoesNotContain(_gateway.AuditEvents(), e => RunningGateway.Is(e, "deferred"));
        var spoolId = failed.GetProperty("spoolId").GetString();
        Assert.Single(_gateway.AuditEvents(), e => RunningGateway.Is(e, "completed") && e.GetProperty("spoolId").GetString() == spoolId);
    }

    [Fact]
    public async Task TemporaryRejectionOfOneRecipient_RetriesOnlyThatRecipient_AndTheOtherIsDeliveredExactlyOnce()
    {
        AnswerRcpt((address, attempt) => address.Equals(Carol, StringComparison.OrdinalIgnoreCase) && attempt == 1
            ? new SmtpResponse((SmtpReplyCode)450, "4.2.1 mailbox busy, try later")
            : null);

        await _gateway.SendAsync(RunningGateway.NewMessage(Alice, Bob, "carol is busy"), Alice, Bob, Carol);

        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Carol), Wait);
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"), Wait);
        await Task.Delay(TimeSpan.FromSeconds(3)); // a wrong retry of bob would arrive within this window

        var messages = _sink.Messages;
        Assert.Single(messages, m => m.RcptTo.Contains(Bob, StringComparer.OrdinalIgnoreCase));
        Assert.Single(messages, m => m.RcptTo.Contains(Carol, StringComparer.OrdinalIgnoreCase));
        Assert.Equal(2, messages.Count);
        Assert.Equal([Bob], messages[0].RcptTo);
        Assert.Equal([Carol], messages[1].RcptTo);
        Assert.Equal(1, RcptAttempts(Bob));
        Assert.Equal(2, RcptAttempts(Carol));

        var events = _gateway.AuditEvents();
        var deferred = Assert.Single(events, e => RunningGateway.Is(e, "deferred"));
        Assert.Equal(Carol, deferred.GetProperty("recipient").GetString());
        Assert.StartsWith("450", Reply(deferred));
        Assert.Single(events, e => RunningGateway.Is(e, "delivered", Bob));
        Assert.Single(events, e => RunningGateway.Is(e, "delivered", Carol));
    }

    /// <summary>
    /// An attempt delivers to Carol and defers Dave, and then its envelope cannot be saved (a full or
    /// failing disk; here a directory where the envelope's temporary file goes). The envelope on disk
    /// still had Carol pending, and the next attempt sent her the message again.
    /// </summary>
    [Fact]
    public async Task EnvelopeThatCannotBeSavedAfterAnAttempt_TheNextAttemptStillKnowsWhoGotIt()
    {
        const string dave = "dave@other.test";
        var daveAnswers = 0;
        var blocked = new TaskCompletionSource();
        AnswerRcpt((address, attempt) =>
        {
            if (address.Equals(Carol, StringComparison.OrdinalIgnoreCase) && attempt == 1) return new SmtpResponse((SmtpReplyCode)450, "4.2.1 busy");
            // Dave's second answer comes in the attempt whose save is blocked: only after the block is in place.
            if (address.Equals(dave, StringComparison.OrdinalIgnoreCase) && Interlocked.Increment(ref daveAnswers) <= 2)
            {
                if (daveAnswers == 2) blocked.Task.Wait(Wait);
                return new SmtpResponse((SmtpReplyCode)450, "4.2.1 busy");
            }
            return null;
        });

        var id = (await _gateway.SendAsync(RunningGateway.NewMessage(Alice, Bob, "save fails"), Alice, Bob, Carol, dave)).Split(' ')[^1];
        // The first attempt (Bob delivered; Carol and Dave deferred) moves the entry to incoming/.
        var envelope = Path.Combine(_world.SpoolPath, "incoming", id + ".json");
        var deadline = DateTime.UtcNow + Wait;
        while (!File.Exists(envelope) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(File.Exists(envelope), "the entry never reached incoming/");
        var temporary = Directory.CreateDirectory(envelope + ".tmp");
        blocked.SetResult();

        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Carol), Wait);
        await Task.Delay(TimeSpan.FromSeconds(1)); // the attempt's save fails meanwhile
        temporary.Delete();
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", dave), Wait);
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"), Wait);

        Assert.Equal(1, RcptAttempts(Bob));
        Assert.Equal(2, RcptAttempts(Carol));
        Assert.Single(_sink.Messages, m => m.RcptTo.Contains(Carol, StringComparer.OrdinalIgnoreCase));
        Assert.Single(_gateway.AuditEvents(), e => RunningGateway.Is(e, "delivered", Carol));
    }

    [Fact]
    public async Task TemporaryRejectionOfSomeRecipientsInABurst_RetriesExactlyThose_NobodyGetsTwoCopies()
    {
        const int messages = 20;
        const string dave = "dave@other.test", frank = "frank@elsewhere.test", gina = "gina@elsewhere.test";
        AnswerRcpt((address, attempt) => address.Equals(gina, StringComparison.OrdinalIgnoreCase) && attempt <= messages
            ? new SmtpResponse((SmtpReplyCode)450, "4.2.1 mailbox busy, try later")
            : null);

        for (var n = 0; n < messages; n++)
            await _gateway.SendAsync(RunningGateway.NewMessage(dave, frank, $"busy-{n:D2}"), dave, frank, gina);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (_gateway.AuditEvents().Count(e => RunningGateway.Is(e, "completed")) < messages && DateTime.UtcNow < deadline) await Task.Delay(100);
        await Task.Delay(TimeSpan.FromSeconds(3)); // a wrong retry of frank would arrive here

        var copies = _sink.Messages;
        var toFrank = copies.Count(m => m.RcptTo.Contains(frank, StringComparer.OrdinalIgnoreCase));
        var toGina = copies.Count(m => m.RcptTo.Contains(gina, StringComparer.OrdinalIgnoreCase));
        var deferrals = _gateway.AuditEvents().Count(e => RunningGateway.Is(e, "deferred"));
        output.WriteLine($"{messages} messages to frank+gina, gina 450 on her first {messages} RCPTs: RCPT frank {RcptAttempts(frank)}, gina {RcptAttempts(gina)}; " +
                         $"copies received: frank {toFrank}, gina {toGina}; deferrals {deferrals} (all gina's: {_gateway.AuditEvents().Where(e => RunningGateway.Is(e, "deferred")).All(e => e.GetProperty("recipient").GetString() == gina)})");
        Assert.Equal(messages, RcptAttempts(frank));
        Assert.Equal(messages, toFrank);
        Assert.Equal(messages, toGina);
        Assert.True(RcptAttempts(gina) >= 2 * messages, $"gina was tried {RcptAttempts(gina)} times");
        Assert.All(_gateway.AuditEvents().Where(e => RunningGateway.Is(e, "deferred")), e => Assert.Equal(gina, e.GetProperty("recipient").GetString()));
        Assert.Equal(messages, _gateway.AuditEvents().Count(e => RunningGateway.Is(e, "completed")));
    }
}
