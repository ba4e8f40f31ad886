using System.Text;
using Gateway.Configuration;
using Gateway.Mail;
using Gateway.Relay;
using Gateway.Spool;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// What the tests of the relay's own SMTP client share: the scripted upstream's usual lines
/// (greeting, an accepted copy, QUIT) and a relay or session pointed at it.
/// </summary>
internal static class ScriptedRelay
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    public const string Message = "Subject: scripted\r\n\r\nfirst line\r\n.starts with a dot\r\n";

    /// <summary>After a one-recipient batch was read: MAIL and RCPT accepted, 354, the data read, and its 250 (with <paramref name="after"/> sent along).</summary>
    public static async Task AcceptAsync(ScriptedUpstream.Connection c, string after = "")
    {
        await c.SayAsync("250 ok\n250 ok\n354 go");
        await c.DataAsync();
        await c.SayAsync("250 queued" + after);
    }

    public static async Task GreetAsync(ScriptedUpstream.Connection c, params string[] extensions)
    {
        await c.SayAsync("220 upstream.test ESMTP");
        Assert.Equal("EHLO gateway.test", await c.LineAsync());
        await c.SayAsync(string.Join('\n', new[] { "upstream.test" }.Concat(extensions).Select((e, i) => (i == extensions.Length ? "250 " : "250-") + e)));
    }

    public static async Task QuitAsync(ScriptedUpstream.Connection c)
    {
        Assert.Equal("QUIT", await c.LineAsync());
        await c.SayAsync("221 bye");
    }

    public static MemoryStream Content(string text) => new(Encoding.UTF8.GetBytes(text));

    public static UpstreamSettings Settings(RelayTlsMode tls) => new("gateway.test", TimeSpan.FromSeconds(10), tls, (_, _, _, _) => true, null, null, Chunking: true, Pipelining: true);

    /// <summary>Relays one copy and waits for the script to end; fails when the script failed.</summary>
    public static async Task<IReadOnlyList<RecipientRelayResult>> RelayAsync(ScriptedUpstream upstream, string[] recipients, string message = Message, DsnParameters? dsn = null,
        bool pipelining = true)
    {
        IReadOnlyList<RecipientRelayResult> results;
        using (var relay = RelayTo(upstream.Port, pipelining: pipelining))
            results = await relay.SendAsync("copy", "dave@other.test", recipients, Content(message), dsn, CancellationToken.None);
        await upstream.Finished(Wait);
        return results;
    }

    /// <summary>By default one message per connection, so the QUIT comes when the copy is done.</summary>
    public static SmtpRelay RelayTo(int port, int maxMessagesPerConnection = 1, TimeProvider? time = null, RelayTlsMode tls = RelayTlsMode.None, bool pipelining = true) => new(Options.Create(new GatewayOptions
    {
        Smtp = new SmtpOptions { ServerName = "gateway.test" },
        Relay = new RelayOptions { Host = "127.0.0.1", Port = port, TlsMode = tls, Pipelining = pipelining, MaxMessagesPerConnection = maxMessagesPerConnection, Timeout = TimeSpan.FromSeconds(10) },
    }), time ?? TimeProvider.System, NullLogger<SmtpRelay>.Instance);
}
