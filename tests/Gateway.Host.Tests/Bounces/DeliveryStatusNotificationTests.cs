using Gateway.Configuration;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;
using SmtpServer.Protocol;
using Xunit.Abstractions;

namespace Gateway.Tests.Bounces;

/// <summary>
/// The reports a sender gets, read back the way a mail client reads them (MimeKit's
/// MultipartReport and MessageDeliveryStatus): RFC 3464 structure, every per-message and
/// per-recipient field, the original headers, the client's ENVID echoed, RET=FULL honoured only
/// where the content would have left unencrypted anyway, and one delay warning.
/// </summary>
public sealed class DeliveryStatusNotificationTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Alice = "alice@example.test";
    private const string Erin = "erin@partner.test";        // partner.test requires encryption; erin has no certificate
    private const string Carol = "carol@partner.test";      // has a certificate: her copy is encrypted
    private const string Dave = "dave@other.test";          // no identity: his mail to elsewhere goes out plain
    private const string Frank = "frank@elsewhere.test";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private readonly GatewayWorld _world = new();
    private CapturingSmtpSink _sink = null!;
    private RunningGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _sink = await CapturingSmtpSink.StartAsync();
        _world.RelayTo(_sink.Port);
    }

    private async Task StartAsync() => _gateway = await RunningGateway.StartAsync(_world);

    public async Task DisposeAsync()
    {
        if (_gateway is not null) await _gateway.DisposeAsync();
        await _sink.DisposeAsync();
        _world.Dispose();
    }

    private Task SendRawAsync(string from, string to, string subject, string mailParameters, string rcptParameters = "") =>
        _gateway.SendRawAsync(from, to, subject, mailParameters, rcptParameters);

    private async Task<(CapturedMessage Raw, MimeMessage Parsed)> WaitForReportAsync(string aboutSubject)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (DateTime.UtcNow < deadline)
        {
            var report = _sink.Messages.FirstOrDefault(m => m.MailFrom == "" && System.Text.Encoding.ASCII.GetString(m.Data).Contains($"<{aboutSubject}@example.test>"));
            if (report is not null) return (report, report.Parse());
            await Task.Delay(50);
        }
        throw new TimeoutException($"no report about {aboutSubject}; sink has {_sink.Messages.Count} messages");
    }

    [Fact]
    public async Task PolicyRefusal_BouncesAValidRfc3464Report_EveryFieldReadBack_HeadersOnlyEvenWithRetFull()
    {
        await StartAsync();
        var serverName = _gateway.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.Smtp.ServerName;
        var before = DateTimeOffset.UtcNow.AddSeconds(-2);

        await SendRawAsync(Alice, Erin, "refused-1", "RET=FULL ENVID=QQ+2Bid-42");
        var (raw, bounce) = await WaitForReportAsync("refused-1");

        // Envelope and top-level headers: from the null sender, to the original sender only, never auto-answered.
        Assert.Equal([Alice], raw.RcptTo);
        Assert.Equal($"MAILER-DAEMON@{serverName}", bounce.From.Mailboxes.Single().Address);
        Assert.Equal(Alice, bounce.To.Mailboxes.Single().Address);
        Assert.Equal("auto-replied", bounce.Headers["Auto-Submitted"]);
        Assert.Equal("Undelivered Mail Returned to Sender", bounce.Subject);
        Assert.False(string.IsNullOrEmpty(bounce.MessageId));

        // multipart/report; report-type=delivery-status with exactly: explanation, status, original headers.
        var report = Assert.IsType<MultipartReport>(bounce.Body);
        Assert.Equal("multipart/report", report.ContentType.MimeType);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.Equal(3, report.Count);
        var human = Assert.IsType<TextPart>(report[0]);
        Assert.Equal("text/plain", human.ContentType.MimeType);
        Assert.Contains($"<{Erin}>", human.Text);
        Assert.Contains("no valid certificate", human.Text);
        Assert.Contains("would have left unencrypted", human.Text);
        var status = Assert.IsType<MessageDeliveryStatus>(report[1]);
        Assert.Equal("message/delivery-status", status.ContentType.MimeType);
        var headers = Assert.IsType<TextRfc822Headers>(report[2]);
        Assert.Equal("text/rfc822-headers", headers.ContentType.MimeType);

        // Per-message fields (RFC 3464 2.2).
        Assert.True(status.StatusGroups.Count == 2, "status groups:\n" + string.Join("\n--\n", status.StatusGroups.Select(g => string.Join("\n", g.Select(h => h.ToString())))) + "\nraw:\n" + System.Text.Encoding.ASCII.GetString(raw.Data));
        var perMessage = status.StatusGroups[0];
        Assert.Equal($"dns; {serverName}", perMessage["Reporting-MTA"]);
        Assert.Equal("QQ+id-42", perMessage["Original-Envelope-Id"]);
        Assert.True(DateUtils.TryParse(perMessage["Arrival-Date"], out var arrival), perMessage["Arrival-Date"]);
        Assert.InRange(arrival, before, DateTimeOffset.UtcNow.AddSeconds(2));

        // Per-recipient fields (RFC 3464 2.3) with the RFC 3463 policy code.
        var perRecipient = status.StatusGroups[1];
        Assert.Equal($"rfc822; {Erin}", perRecipient["Final-Recipient"]);
        Assert.Equal("failed", perRecipient["Action"]);
        Assert.Equal("5.7.10", perRecipient["Status"]);
        Assert.StartsWith("smtp; 550 5.7.10 ", perRecipient["Diagnostic-Code"]);

        // The original's headers, never its body, even though the client asked RET=FULL.
        var original = Assert.IsType<MimeMessage>(headers.Message);
        Assert.Equal("refused-1", original.Subject);
        Assert.Equal("refused-1@example.test", original.MessageId);
        Assert.DoesNotContain("secret body", System.Text.Encoding.ASCII.GetString(raw.Data));
        output.WriteLine($"report for a policy refusal: {raw.Data.Length} bytes; status: {perRecipient["Status"]}; diagnostic: {perRecipient["Diagnostic-Code"]}");
    }

    [Fact]
    public async Task UpstreamRefusal_WithRetFull_ReturnsTheWholeMessage_OnlyWhenItsCopyWasNotEncrypted()
    {
        _sink.OnRcpt = address => address is Frank or Carol ? new SmtpResponse((SmtpReplyCode)550, "5.1.1 no such user here") : null;
        await StartAsync();

        await SendRawAsync(Dave, Frank, "plain-full", "RET=FULL");
        await SendRawAsync(Alice, Carol, "encrypted-full", "RET=FULL");
        await SendRawAsync(Dave, Frank, "plain-default", "");

        var (plainRaw, plain) = await WaitForReportAsync("plain-full");
        var (encryptedRaw, encrypted) = await WaitForReportAsync("encrypted-full");
        var (_, byDefault) = await WaitForReportAsync("plain-default");

        var returned = Assert.IsType<MessagePart>(Assert.IsType<MultipartReport>(plain.Body)[2]);
        Assert.Equal("message/rfc822", returned.ContentType.MimeType);
        Assert.Contains("secret body of plain-full", Assert.IsType<TextPart>(Assert.IsType<MimeMessage>(returned.Message).Body).Text);
        Assert.Equal("5.1.1", Assert.IsType<MessageDeliveryStatus>(Assert.IsType<MultipartReport>(plain.Body)[1]).StatusGroups[1]["Status"]);
        Assert.IsType<TextRfc822Headers>(Assert.IsType<MultipartReport>(encrypted.Body)[2]);
        Assert.DoesNotContain("secret body", System.Text.Encoding.ASCII.GetString(encryptedRaw.Data));
        Assert.IsType<TextRfc822Headers>(Assert.IsType<MultipartReport>(byDefault.Body)[2]);
        Assert.Equal([Dave], plainRaw.RcptTo);
    }

    [Fact]
    public async Task SignAlwaysByDefault_TheGatewaysOwnBounce_GoesOutUnsigned_NotRefusedForWantOfASigner()
    {
        // The README's "legal department" example: every sender signs always, no rule for <>.
        await File.WriteAllTextAsync(_world.PolicyPath, """
            { "default": { "sign": "always", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [ { "name": "corp-signs", "senders": [ "example.test" ], "sign": "always" } ] }
            """);
        _sink.OnRcpt = address => address == Frank ? new SmtpResponse((SmtpReplyCode)550, "5.1.1 no such user here") : null;
        await StartAsync();

        await SendRawAsync(Alice, Frank, "sign-always-bounce", "");
        var (raw, bounce) = await WaitForReportAsync("sign-always-bounce");

        Assert.Equal([Alice], raw.RcptTo);
        Assert.Equal("5.1.1", Assert.IsType<MessageDeliveryStatus>(Assert.IsType<MultipartReport>(bounce.Body)[1]).StatusGroups[1]["Status"]);
        Assert.DoesNotContain(_gateway.AuditEvents(), e => RunningGateway.Is(e, "refused", Alice));
    }

    [Fact]
    public async Task RetFull_RefusedUpstreamForItsSize_ReturnsHeadersOnly_SoTheReportIsNotRefusedToo()
    {
        const int UpstreamLimit = 20_000; // the original is over it, the default Spool:BounceSizeLimit (50,000) is not
        _sink.OnData = m => m.Data.Length > UpstreamLimit ? new SmtpResponse((SmtpReplyCode)552, "5.3.4 message size exceeds fixed limit") : null;
        await StartAsync();

        await SendRetFullAsync(Dave, Frank, "too-big", 28_000);
        var (raw, bounce) = await WaitForReportAsync("too-big");

        var report = Assert.IsType<MultipartReport>(bounce.Body);
        Assert.Equal("5.3.4", Assert.IsType<MessageDeliveryStatus>(report[1]).StatusGroups[1]["Status"]);
        Assert.IsType<TextRfc822Headers>(report[2]);
        Assert.InRange(raw.Data.Length, 0, UpstreamLimit);
    }

    [Fact]
    public async Task RetFull_OverTheBounceSizeLimit_ReturnsHeadersOnly()
    {
        _sink.OnRcpt = address => address == Frank ? new SmtpResponse((SmtpReplyCode)550, "5.1.1 no such user here") : null;
        _world.Settings["Gateway:Spool:BounceSizeLimit"] = "10000";
        await StartAsync();

        await SendRetFullAsync(Dave, Frank, "over-limit", 12_000);
        await SendRetFullAsync(Dave, Frank, "under-limit", 5_000);
        var (overRaw, over) = await WaitForReportAsync("over-limit");
        var (_, under) = await WaitForReportAsync("under-limit");

        Assert.IsType<TextRfc822Headers>(Assert.IsType<MultipartReport>(over.Body)[2]);
        Assert.Contains("its content was not returned", Assert.IsType<TextPart>(Assert.IsType<MultipartReport>(over.Body)[0]).Text);
        Assert.InRange(overRaw.Data.Length, 0, 10_000);
        Assert.IsType<MessagePart>(Assert.IsType<MultipartReport>(under.Body)[2]);
    }

    /// <summary>A plain message of about <paramref name="size"/> bytes with RET=FULL.</summary>
    private async Task SendRetFullAsync(string from, string to, string subject, int size)
    {
        await using var smtp = await Gateway.Tests.Smtp.RawSmtpClient.ConnectAsync(_gateway.Port);
        await smtp.ReadReplyAsync();
        await smtp.CommandAsync("EHLO client.example.test");
        Assert.StartsWith("250", await smtp.CommandAsync($"MAIL FROM:<{from}> RET=FULL"));
        Assert.StartsWith("250", await smtp.CommandAsync($"RCPT TO:<{to}>"));
        Assert.StartsWith("354", await smtp.CommandAsync("DATA"));
        const string Line = "0123456789012345678901234567890123456789012345678901234567890123456789\r\n";
        var body = string.Concat(Enumerable.Repeat(Line, size / (Line.Length - 2)));
        Assert.StartsWith("250", await smtp.CommandAsync($"From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\n\r\n{body}."));
    }

    [Fact]
    public async Task LongDeferral_SendsOneDelayWarning_WithActionDelayed_AndKeepsTrying()
    {
        var attempts = 0;
        _sink.OnRcpt = address => address == Carol ? new SmtpResponse((SmtpReplyCode)450, $"4.2.1 mailbox busy (attempt {Interlocked.Increment(ref attempts)})") : null;
        _world.Settings["Gateway:Spool:DelayWarningAfter"] = "00:00:02";
        await StartAsync();

        await SendRawAsync(Alice, Carol, "slow-1", "");
        var (raw, warning) = await WaitForReportAsync("slow-1");
        var seenAt = Volatile.Read(ref attempts);
        while (Volatile.Read(ref attempts) < seenAt + 3) await Task.Delay(100); // three more attempts, no second warning

        Assert.Equal([Alice], raw.RcptTo);
        Assert.Equal("Delayed Mail (still being retried)", warning.Subject);
        var report = Assert.IsType<MultipartReport>(warning.Body);
        Assert.Equal("delivery-status", report.ReportType);
        var perRecipient = Assert.IsType<MessageDeliveryStatus>(report[1]).StatusGroups[1];
        Assert.Equal($"rfc822; {Carol}", perRecipient["Final-Recipient"]);
        Assert.Equal("delayed", perRecipient["Action"]);
        Assert.Equal("4.2.1", perRecipient["Status"]);
        Assert.True(DateUtils.TryParse(perRecipient["Will-Retry-Until"], out var until));
        Assert.InRange(until, DateTimeOffset.UtcNow.AddDays(4.9), DateTimeOffset.UtcNow.AddDays(5.1));
        Assert.Contains("you do not need to send it again", Assert.IsType<TextPart>(report[0]).Text);
        Assert.Single(_sink.Messages, m => m.MailFrom == "");
        Assert.Single(_gateway.AuditEvents(), e => RunningGateway.Is(e, "delay-warned"));
        output.WriteLine($"one delay warning after {seenAt} attempts; {Volatile.Read(ref attempts)} attempts so far, still one warning");
    }

    [Fact]
    public async Task NotifySuccess_ToAnUpstreamWithoutDsn_GetsOneRelayedReport_WithTheClientsOrcptAndEnvid()
    {
        await StartAsync(); // the capturing sink does not offer DSN: success can only be reported from here

        // RET=FULL is about failures: a success report returns the headers only (RFC 3461 §4.3).
        await SendRawAsync(Dave, Frank, "relayed-1", "RET=FULL ENVID=env-7", "NOTIFY=SUCCESS ORCPT=rfc822;frank+2Bsales@elsewhere.test");
        var (raw, report) = await WaitForReportAsync("relayed-1");

        Assert.Equal([Dave], raw.RcptTo);
        Assert.Equal("Successful Mail Delivery Report", report.Subject);
        var parts = Assert.IsType<MultipartReport>(report.Body);
        var status = Assert.IsType<MessageDeliveryStatus>(parts[1]);
        Assert.Equal("env-7", status.StatusGroups[0]["Original-Envelope-Id"]);
        var perRecipient = status.StatusGroups[1];
        Assert.Equal("rfc822; frank+sales@elsewhere.test", perRecipient["Original-Recipient"]);
        Assert.Equal($"rfc822; {Frank}", perRecipient["Final-Recipient"]);
        Assert.Equal("relayed", perRecipient["Action"]);
        Assert.StartsWith("2.", perRecipient["Status"]);
        Assert.StartsWith("smtp; 250 ", perRecipient["Diagnostic-Code"]);
        Assert.Contains("passed on", Assert.IsType<TextPart>(parts[0]).Text);
        Assert.IsType<TextRfc822Headers>(parts[2]);
        Assert.DoesNotContain("secret body", System.Text.Encoding.ASCII.GetString(raw.Data));
        // The message itself went to Frank, once; the report is the only other message.
        Assert.Single(_sink.Messages, m => m.RcptTo.SequenceEqual([Frank]));
        Assert.Single(_gateway.AuditEvents(), e => RunningGateway.Is(e, "success-reported"));
    }

    /// <summary>
    /// Erin is refused by policy at once; the copy for Frank then hangs at the upstream until the
    /// stop cancels the attempt. Before, Erin was saved as failed and the report, queued only at the
    /// end of an attempt, was never sent. Now it is owed in the saved state and the restart sends it.
    /// </summary>
    [Fact]
    public async Task AStopBetweenARefusalAndItsReport_LosesNoReport_TheRestartQueuesIt()
    {
        _world.Settings["Gateway:Spool:ShutdownTimeout"] = "00:00:01";
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        _sink.OnData = message =>
        {
            if (!message.RcptTo.Contains(Frank) || release.IsSet) return null;
            stalled.TrySetResult();
            release.Wait(Wait);
            return new SmtpResponse((SmtpReplyCode)451, "4.3.0 the attempt was cut short");
        };
        await StartAsync();
        var message = RunningGateway.NewMessage(Alice, Erin, "stopped-1");
        message.MessageId = "stopped-1@example.test";
        await _gateway.SendAsync(message, Alice, Erin, Frank);
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "refused", Erin));
        await stalled.Task.WaitAsync(Wait);

        await _gateway.DisposeAsync();
        _gateway = null!;
        var envelope = Directory.GetFiles(Path.Combine(_world.SpoolPath, "incoming"), "*.json").Select(File.ReadAllText).Single();
        Assert.Contains("\"reportOwed\"", envelope);
        Assert.DoesNotContain(_sink.Messages, m => m.MailFrom == "");

        release.Set();
        await StartAsync();
        var (raw, bounce) = await WaitForReportAsync("stopped-1");
        await _sink.WaitForMessagesAsync(2, Wait);
        var status = Assert.IsType<MessageDeliveryStatus>(Assert.IsType<MultipartReport>(bounce.Body)[1]);
        Assert.Equal([Alice], raw.RcptTo);
        Assert.Equal($"rfc822; {Erin}", Assert.Single(status.StatusGroups.Skip(1))["Final-Recipient"]);
        Assert.Equal("5.7.10", status.StatusGroups[1]["Status"]);
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"));
        Assert.Single(_sink.Messages, m => m.MailFrom == "");
        Assert.Single(_sink.Messages, m => m.RcptTo.Contains(Frank));
        output.WriteLine($"after the restart: {_sink.Messages.Count} messages at the sink, one of them the report about {Erin}");
    }

    [Fact]
    public async Task NotifyNever_OnAPolicyRefusal_SendsNoReport_WhileNotifyFailure_GetsOne_WithOriginalRecipient()
    {
        await StartAsync();

        await SendRawAsync(Alice, Erin, "never-1", "", "NOTIFY=NEVER");
        await SendRawAsync(Alice, Erin, "failure-1", "", "NOTIFY=FAILURE ORCPT=rfc822;erin@partner.test");
        var (_, bounce) = await WaitForReportAsync("failure-1");
        var suppressed = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "bounce-suppressed"));

        Assert.Equal("rfc822; erin@partner.test", Assert.IsType<MessageDeliveryStatus>(Assert.IsType<MultipartReport>(bounce.Body)[1]).StatusGroups[1]["Original-Recipient"]);
        Assert.Equal(Erin, suppressed.GetProperty("recipients")[0].GetString());
        Assert.Contains("NOTIFY", suppressed.GetProperty("reason").GetString());
        Assert.Single(_sink.Messages, m => m.MailFrom == ""); // the report about failure-1, none about never-1
        Assert.DoesNotContain(_sink.Messages, m => m.RcptTo.Contains(Erin)); // refused by policy: Erin never gets it either way
    }

    [Fact]
    public async Task NotifyWithoutDelay_GetsNoDelayWarning()
    {
        _sink.OnRcpt = address => address == Carol ? new SmtpResponse((SmtpReplyCode)450, "4.2.1 mailbox busy") : null;
        _world.Settings["Gateway:Spool:DelayWarningAfter"] = "00:00:01";
        await StartAsync();

        await SendRawAsync(Alice, Carol, "slow-quiet", "", "NOTIFY=FAILURE");
        var suppressed = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "bounce-suppressed"));

        Assert.Contains("delay", suppressed.GetProperty("reason").GetString());
        Assert.Equal(Carol, suppressed.GetProperty("recipients")[0].GetString());
        Assert.DoesNotContain(_sink.Messages, m => m.MailFrom == "");
        Assert.DoesNotContain(_gateway.AuditEvents(), e => RunningGateway.Is(e, "delay-warned"));
    }

    [Fact]
    public async Task ARecipientInPunycode_RefusedUpstream_IsFailedAndReported_NotTakenForDelivered()
    {
        // The relay writes the address as the client gave it: xn-- stays xn--.
        const string Punycode = "grace@xn--bcher-kva.example";
        _sink.OnRcpt = address => address == Punycode ? new SmtpResponse((SmtpReplyCode)550, "5.1.1 no such user here") : null;
        await StartAsync();

        await SendRawAsync(Dave, Punycode, "idn-refused", "");
        var (_, bounce) = await WaitForReportAsync("idn-refused");

        var perRecipient = Assert.IsType<MessageDeliveryStatus>(Assert.IsType<MultipartReport>(bounce.Body)[1]).StatusGroups[1];
        Assert.Equal($"rfc822; {Punycode}", perRecipient["Final-Recipient"]);
        Assert.Equal("failed", perRecipient["Action"]);
        Assert.DoesNotContain(_gateway.AuditEvents(), e => RunningGateway.Is(e, "delivered", Punycode));
    }

    [Fact]
    public async Task TheSameRecipientTwice_RefusedUpstream_IsFailedBothTimes_NotTakenForDeliveredOnce()
    {
        // The relay sends an address once (case aside): the recipient it left out must share the refusal.
        _sink.OnRcpt = address => address.Equals(Frank, StringComparison.OrdinalIgnoreCase) ? new SmtpResponse((SmtpReplyCode)550, "5.1.1 no such user here") : null;
        await StartAsync();

        await using (var smtp = await Gateway.Tests.Smtp.RawSmtpClient.ConnectAsync(_gateway.Port))
        {
            await smtp.ReadReplyAsync();
            await smtp.CommandAsync("EHLO client.example.test");
            Assert.StartsWith("250", await smtp.CommandAsync($"MAIL FROM:<{Dave}>"));
            Assert.StartsWith("250", await smtp.CommandAsync($"RCPT TO:<{Frank}>"));
            Assert.StartsWith("250", await smtp.CommandAsync("RCPT TO:<Frank@elsewhere.test>"));
            Assert.StartsWith("354", await smtp.CommandAsync("DATA"));
            Assert.StartsWith("250", await smtp.CommandAsync("Subject: twice\r\nMessage-ID: <twice@example.test>\r\n\r\nbody\r\n."));
        }
        var (_, bounce) = await WaitForReportAsync("twice");

        var groups = Assert.IsType<MessageDeliveryStatus>(Assert.IsType<MultipartReport>(bounce.Body)[1]).StatusGroups;
        Assert.Equal(3, groups.Count); // per message, then both recipients
        Assert.All(groups.Skip(1), g => Assert.Equal("failed", g["Action"]));
        Assert.DoesNotContain(_gateway.AuditEvents(), e => RunningGateway.Is(e, "delivered") && e.GetProperty("recipient").GetString()!.Equals(Frank, StringComparison.OrdinalIgnoreCase));
    }
}
