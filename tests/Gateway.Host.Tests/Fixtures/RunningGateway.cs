using System.Net;
using System.Text.Json;
using Gateway.Cli;
using Gateway.Policy;
using Gateway.Smtp;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MimeKit;

namespace Gateway.Tests.Fixtures;

/// <summary>The real gateway, in process, on a free loopback port, configured from a <see cref="GatewayWorld"/>.</summary>
public sealed class RunningGateway : IAsyncDisposable
{
    private readonly IHost _host;

    private RunningGateway(IHost host, GatewayWorld world, IPEndPoint endpoint)
    {
        _host = host;
        World = world;
        Endpoint = endpoint;
    }

    public GatewayWorld World { get; }
    public IPEndPoint Endpoint { get; }
    public int Port => Endpoint.Port;
    public IServiceProvider Services => _host.Services;

    public static async Task<RunningGateway> StartAsync(GatewayWorld world, Action<IServiceCollection>? services = null)
    {
        var host = GatewayHostFactory.Build(configPath: null, c => c.AddInMemoryCollection(world.Settings), services: services);
        var policy = host.Services.GetRequiredService<PolicyProvider>().Load();
        Assert.True(policy.Succeeded, string.Join("\n", policy.Errors));
        await host.StartAsync();
        var ready = host.Services.GetRequiredService<SmtpListenerService>().Ready;
        var endpoint = await ready.WaitAsync(TimeSpan.FromSeconds(20));
        return new RunningGateway(host, world, endpoint);
    }

    /// <summary>Sends with MailKit and returns the server's reply to DATA.</summary>
    public async Task<string> SendAsync(MimeMessage message, string from, params string[] to)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", Port, MailKit.Security.SecureSocketOptions.None);
        var reply = await client.SendAsync(message, new MailboxAddress("", from), to.Select(t => new MailboxAddress("", t)));
        await client.DisconnectAsync(true);
        return reply;
    }

    /// <summary>
    /// Sends over raw SMTP so MAIL FROM and RCPT TO carry parameters (RET, ENVID, NOTIFY, ORCPT)
    /// exactly as written here. The body says "secret body of SUBJECT".
    /// </summary>
    public async Task SendRawAsync(string from, string to, string subject, string mailParameters, string rcptParameters = "")
    {
        await using var smtp = await Smtp.RawSmtpClient.ConnectAsync(Port);
        Assert.StartsWith("220", await smtp.ReadReplyAsync());
        Assert.StartsWith("250", await smtp.CommandAsync("EHLO client.example.test"));
        Assert.StartsWith("250", await smtp.CommandAsync($"MAIL FROM:<{from}> {mailParameters}".TrimEnd()));
        Assert.StartsWith("250", await smtp.CommandAsync($"RCPT TO:<{to}> {rcptParameters}".TrimEnd()));
        Assert.StartsWith("354", await smtp.CommandAsync("DATA"));
        await smtp.SendAsync($"From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\n\r\nsecret body of {subject}\r\n.\r\n");
        Assert.StartsWith("250", await smtp.ReadReplyAsync());
        await smtp.CommandAsync("QUIT");
    }

    public static MimeMessage NewMessage(string from, string to, string subject, string body = "Hello,\r\nthis is a test.\r\n")
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = body };
        return message;
    }

    /// <summary>
    /// The audit lines written so far. A line being appended may be read in part (a write is not
    /// atomic for a reader, and a line crossing a page shows up a page at a time), so only lines
    /// ended by their newline count, as for any program tailing the log.
    /// </summary>
    public IReadOnlyList<JsonElement> AuditEvents()
    {
        if (!File.Exists(World.AuditPath)) return [];
        using var stream = new FileStream(World.AuditPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var lines = reader.ReadToEnd().Split('\n');
        return lines[..^1].Where(line => line.Length > 0).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    /// <summary>Waits until an audit event matches; fails with the whole log when none does in time.</summary>
    public async Task<JsonElement> WaitForAuditAsync(Func<JsonElement, bool> predicate, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (DateTime.UtcNow < deadline)
        {
            var match = AuditEvents().FirstOrDefault(predicate);
            if (match.ValueKind != JsonValueKind.Undefined) return match;
            await Task.Delay(50);
        }
        throw new TimeoutException("no matching audit event; the log has:\n" + string.Join("\n", AuditEvents().Select(e => e.GetRawText())));
    }

    public static bool Is(JsonElement e, string name, string? recipient = null) =>
        e.GetProperty("event").GetString() == name &&
        (recipient is null || (e.TryGetProperty("recipient", out var r) && r.GetString() == recipient));

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(stop.Token);
        _host.Dispose();
    }
}
