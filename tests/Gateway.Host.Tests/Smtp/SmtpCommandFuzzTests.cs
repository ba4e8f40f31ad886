using System.Text;
using Gateway.Tests.Harvest;
using Xunit.Abstractions;

namespace Gateway.Tests.Smtp;

/// <summary>
/// Seeded mutations of every command a client may send (stray bytes, NULs, 8-bit and UTF-8,
/// brackets, quotes, repeated and truncated tokens, long runs), on the submission listener and on
/// the inbound endpoint, and after STARTTLS with AUTH offered: each line gets one well-formed reply, the connection is closed only
/// after a 221 or a 421, and the gateway still takes a message afterwards. A parser exception
/// inside SmtpServer ended the session without a reply (a MAIL parameter given twice did).
/// </summary>
public sealed class SmtpCommandFuzzTests(ITestOutputHelper output) : GatewayWithInboundEndpoint
{
    private const int LinesPerSeed = 400;

    private static readonly string[] Commands =
    [
        "EHLO client.test", "HELO client.test", "EHLO [127.0.0.1]", "EHLO [IPv6:::1]",
        "MAIL FROM:<alice@example.test>", "MAIL FROM:<> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=QQ+2Bid",
        "MAIL FROM:<\"quoted local\"@example.test> SMTPUTF8", "MAIL FROM:<alice@example.test> AUTH=<>",
        "RCPT TO:<bob@elsewhere.test>", "RCPT TO:<bob@elsewhere.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@elsewhere.test",
        "RCPT TO:<@route.test:bob@elsewhere.test>", "RCPT TO:<postmaster>", "RCPT TO:<carol@partner.test> NOTIFY=NEVER",
        "RSET", "NOOP", "NOOP hello", "VRFY bob", "EXPN list", "HELP", "HELP MAIL", "DATA", "BDAT 10 LAST",
        "AUTH PLAIN AGFsaWNlAHNlY3JldA==", "AUTH PLAIN AHJlbGF5LXVzZXIAY29ycmVjdCBob3JzZQ==", "AUTH LOGIN", "AUTH LOGIN cmVsYXktdXNlcg==",
        "AUTH SCRAM-SHA-256 biwsbj1yZWxheS11c2VyLHI9ZnV6eg==", "AUTH CRAM-MD5", "AUTH PLAIN =", "QUIT",
    ];

    private static readonly string[] Stray =
    [
        "\0", "\u0001", "\u007f", "\u0080", "\u00ff", "é", "\u2028", "<", ">", "\"", "\\", ":", "=", " ", "\t", "@", "[", "]",
        "+", ",", ";", "\r", "<>", "=\"", "SIZE=1", "NOTIFY=", "ORCPT=", "rfc822;", "xtext+2", "<a@b>", "\"\\\"",
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task MutatedCommandLines_OnTheSubmissionListener_EachGetOneReply(int seed) =>
        await FuzzAsync(Running.Port, seed, "submission");

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public async Task MutatedCommandLines_OnTheInboundEndpoint_EachGetOneReply(int seed) =>
        await FuzzAsync(await InboundPortAsync(), seed, "inbound");

    [Theory]
    [InlineData(6)]
    [InlineData(7)]
    public async Task MutatedCommandLines_AfterStartTlsWithAuthOffered_EachGetOneReply(int seed)
    {
        using var world = SmtpAuthWorld.Create();
        world.Settings["Gateway:Smtp:MaxErrors"] = "100000";
        await using var gateway = await Fixtures.RunningGateway.StartAsync(world);
        await FuzzAsync(gateway.Port, seed, "auth", tls: true);
    }

    protected override void Configure(Fixtures.GatewayWorld world)
    {
        base.Configure(world);
        // Every mutated line may be an error: the fuzz must not end on the error limit's 421.
        world.Settings["Gateway:Smtp:MaxErrors"] = "100000";
    }

    private async Task FuzzAsync(int port, int seed, string endpoint, bool tls = false)
    {
        var random = new Random(seed);
        var client = await OpenAsync(port, tls);
        try
        {
            for (var i = 0; i < LinesPerSeed; i++)
            {
                var line = Mutate(Commands[random.Next(Commands.Length)], random);
                await client.SendAsync(Encoding.UTF8.GetBytes(line + "\r\n"));
                var reply = await client.ReadReplyAsync();
                Assert.True(reply is not null, $"{endpoint}, seed {seed}, line {i}: the connection closed without a reply to {Shown(line)}");
                Assert.Matches(@"^([2-5][0-9][0-9]([ -][^\r\n]*)?(\r?\n|$))+$", reply); // RFC 5321 §4.2: the text is optional
                output.WriteLine($"{Shown(line)} -> {reply.Split('\n')[^1]}");
                var code = reply[..3];
                if (code == "354")
                {
                    await client.SendAsync(".\r\n");
                    Assert.NotNull(await client.ReadReplyAsync());
                }
                else if (code == "334")
                {
                    await client.SendAsync("*\r\n");
                    Assert.NotNull(await client.ReadReplyAsync());
                }
                if (code is "221" or "421" or "220")
                {
                    await client.DisposeAsync();
                    client = await OpenAsync(port, tls);
                }
            }
            // A third failed AUTH is answered, then the session ends with a 421 (as from Postfix).
            if ((await client.CommandAsync("RSET"))!.StartsWith("421"))
            {
                await client.DisposeAsync();
                client = await OpenAsync(port, tls);
            }
            Assert.StartsWith("250", await client.CommandAsync("NOOP"));
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    private static async Task<RawSmtpClient> OpenAsync(int port, bool tls)
    {
        var client = await RawSmtpClient.ConnectAsync(port);
        Assert.StartsWith("220", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("EHLO fuzz.test"));
        if (!tls) return client;
        Assert.StartsWith("220", await client.CommandAsync("STARTTLS"));
        await client.UpgradeToTlsAsync();
        Assert.Contains("AUTH", await client.CommandAsync("EHLO fuzz.test"));
        return client;
    }

    /// <summary>One to four edits; never a line feed, so the line stays one line.</summary>
    private static string Mutate(string command, Random random)
    {
        var text = new StringBuilder(command);
        for (var edits = random.Next(1, 5); edits > 0; edits--)
        {
            var at = random.Next(text.Length + 1);
            switch (random.Next(8))
            {
                case 0:
                    text.Insert(at, Stray[random.Next(Stray.Length)]);
                    break;
                case 1 when text.Length > 0:
                    text[Math.Min(at, text.Length - 1)] = Stray[random.Next(Stray.Length)][0];
                    break;
                case 2 when at < text.Length:
                    text.Remove(at, random.Next(1, Math.Min(8, text.Length - at) + 1));
                    break;
                case 3:
                    // A token given twice: parameters, paths, keywords.
                    var tokens = text.ToString().Split(' ');
                    var token = tokens[random.Next(tokens.Length)];
                    text.Append(' ').Append(token);
                    break;
                case 4:
                    text.Insert(at, new string((char)random.Next('0', 'z'), random.Next(1, 300)));
                    break;
                case 5:
                    text.Length = at;
                    break;
                case 6:
                    text.Append(' ').Append(Commands[random.Next(Commands.Length)].Split(' ')[^1]);
                    break;
                default:
                    var flipped = text.ToString();
                    text.Clear().Append(random.Next(2) == 0 ? flipped.ToLowerInvariant() : flipped.ToUpperInvariant());
                    break;
            }
        }
        return text.ToString();
    }

    private static string Shown(string line) =>
        string.Concat(line.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:x4}"));
}
