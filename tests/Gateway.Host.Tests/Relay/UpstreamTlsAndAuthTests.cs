using System.Text;
using Gateway.Configuration;
using Gateway.Mail;
using Gateway.Relay;
using Gateway.Spool;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using static Gateway.Tests.Fixtures.ScriptedRelay;

namespace Gateway.Tests.Relay;

/// <summary>
/// STARTTLS and AUTH with scripted upstreams: injection before the handshake, the fallbacks
/// opportunistic TLS allows and required TLS does not, and which mechanism carries the password,
/// if any.
/// </summary>
public sealed class UpstreamTlsAndAuthTests
{
    [Fact]
    public async Task RepliesSentAheadOfTheTlsHandshake_AreRefused_NotReadAsIfTheyCameOverTls()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "STARTTLS");
            Assert.Equal("STARTTLS", await c.LineAsync());
            await c.SayAsync("220 go ahead\n250 injected before the handshake");
        });

        var failure = await Assert.ThrowsAnyAsync<IOException>(() => UpstreamSession.OpenAsync(new UpstreamHost("127.0.0.1", upstream.Port), Settings(RelayTlsMode.Opportunistic), CancellationToken.None));

        Assert.Contains("sent data after its reply to STARTTLS", failure.Message);
    }

    [Theory]
    [InlineData(RelayTlsMode.Opportunistic, RelayOutcome.Accepted, 2)]
    [InlineData(RelayTlsMode.Required, RelayOutcome.Temporary, 1)]
    public async Task AFailedTlsHandshake_WithOpportunisticTls_SendsInClearOnANewConnection_WithRequiredDefers(RelayTlsMode mode, RelayOutcome outcome, int connections)
    {
        var clientHelloSeen = false;
        var brokenTls = async (ScriptedUpstream.Connection c) =>
        {
            await GreetAsync(c, "STARTTLS", "PIPELINING");
            Assert.Equal("STARTTLS", await c.LineAsync());
            await c.SayAsync("220 go ahead");
            Assert.True(await c.Stream.ReadAsync(new byte[4096]) > 0); // the ClientHello
            clientHelloSeen = true;
            await c.SayAsync("this is no TLS server hello");
            c.Stream.Close();
        };
        var plain = async (ScriptedUpstream.Connection c) =>
        {
            await GreetAsync(c, "STARTTLS", "PIPELINING");
            Assert.StartsWith("MAIL FROM:", await c.LineAsync()); // no second STARTTLS on this one
            await c.LineAsync();
            await c.LineAsync();
            await AcceptAsync(c);
            await QuitAsync(c);
        };
        await using var upstream = new ScriptedUpstream(brokenTls, plain);

        IReadOnlyList<RecipientRelayResult> results;
        using (var relay = RelayTo(upstream.Port, tls: mode))
            results = await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None);

        var result = Assert.Single(results);
        Assert.Equal(outcome, result.Outcome);
        Assert.Equal(connections, upstream.Connections);
        Assert.True(clientHelloSeen, "the handshake never started");
        if (mode == RelayTlsMode.Required) Assert.Contains("TLS with upstream", result.Reply);
        else Assert.Equal("none", result.Tls);
    }

    [Theory]
    [InlineData(RelayTlsMode.Opportunistic, RelayOutcome.Accepted)]
    [InlineData(RelayTlsMode.Required, RelayOutcome.Temporary)]
    public async Task StartTlsRefused_WithOpportunisticTls_TheSessionGoesOnInClear_WithRequiredTheCopyIsDeferred(RelayTlsMode mode, RelayOutcome outcome)
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "STARTTLS", "PIPELINING");
            Assert.Equal("STARTTLS", await c.LineAsync());
            await c.SayAsync("454 4.7.0 TLS not available due to local problem");
            if (mode == RelayTlsMode.Required)
            {
                await c.LineAsync(); // dropped or QUIT: no MAIL
                return;
            }
            Assert.StartsWith("MAIL FROM:", await c.LineAsync());
            await c.LineAsync();
            await c.LineAsync();
            await AcceptAsync(c);
            await QuitAsync(c);
        });

        IReadOnlyList<RecipientRelayResult> results;
        using (var relay = RelayTo(upstream.Port, tls: mode))
            results = await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None);
        await upstream.Finished(Wait);

        var result = Assert.Single(results);
        Assert.Equal(outcome, result.Outcome);
        if (mode == RelayTlsMode.Required) Assert.Contains("refused STARTTLS: 454 4.7.0", result.Reply);
        Assert.DoesNotContain("MAIL", mode == RelayTlsMode.Required ? upstream.Received : "");
    }

    [Fact]
    public async Task WithoutStartTls_ThePasswordIsNotSentInClear_UnlessTlsModeNoneSaysSo()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "AUTH PLAIN LOGIN");
            await c.LineAsync(); // QUIT or the end
        });

        var failure = await Assert.ThrowsAnyAsync<IOException>(() => UpstreamSession.OpenAsync(new UpstreamHost("127.0.0.1", upstream.Port),
            Settings(RelayTlsMode.Opportunistic) with { Username = "gateway", Password = "secret" }, CancellationToken.None));
        await upstream.Finished(Wait);

        Assert.Contains("not sent over a plain connection", failure.Message);
        Assert.DoesNotContain("AUTH", upstream.Received);
    }

    [Theory]
    [InlineData("AUTH PLAIN LOGIN", new[] { "AUTH PLAIN AGdhdGV3YXkAc2VjcmV0" })]
    [InlineData("AUTH LOGIN", new[] { "AUTH LOGIN", "Z2F0ZXdheQ==", "c2VjcmV0" })]
    public async Task Credentials_GoWithPlainOrLogin(string offered, string[] expected)
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, offered);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], await c.LineAsync());
                await c.SayAsync(i == expected.Length - 1 ? "235 2.7.0 accepted" : "334 ");
            }
            await QuitAsync(c);
        });

        var session = await UpstreamSession.OpenAsync(new UpstreamHost("127.0.0.1", upstream.Port),
            Settings(RelayTlsMode.None) with { Username = "gateway", Password = "secret" }, CancellationToken.None);
        await session.QuitAsync(CancellationToken.None);
        await upstream.Finished(Wait);
    }

    [Theory]
    [InlineData("honest")]
    [InlineData("wrong proof")]
    [InlineData("no proof")]
    public async Task ScramSha256_IsPreferred_AndAnUpstreamThatCannotProveItKnowsThePassword_IsRefused(string upstreamKind)
    {
        var honest = upstreamKind == "honest";
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "AUTH PLAIN LOGIN SCRAM-SHA-256");
            var first = await c.LineAsync() ?? "";
            Assert.StartsWith("AUTH SCRAM-SHA-256 ", first);
            var clientFirstBare = Encoding.UTF8.GetString(Convert.FromBase64String(first["AUTH SCRAM-SHA-256 ".Length..]))["n,,".Length..];
            var serverFirst = $"r={clientFirstBare.Split(",r=")[1]}server-part,s={Convert.ToBase64String("salt of the test"u8)},i=4096";
            await c.SayAsync("334 " + Convert.ToBase64String(Encoding.UTF8.GetBytes(serverFirst)));
            var clientFinal = Encoding.UTF8.GetString(Convert.FromBase64String(await c.LineAsync() ?? ""));
            // The server's side, written out here on its own: the stored keys of "secret".
            var salted = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2("secret"u8, "salt of the test"u8, 4096, System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
            var clientKey = System.Security.Cryptography.HMACSHA256.HashData(salted, "Client Key"u8);
            var withoutProof = clientFinal[..clientFinal.IndexOf(",p=", StringComparison.Ordinal)];
            var authMessage = Encoding.UTF8.GetBytes($"{clientFirstBare},{serverFirst},{withoutProof}");
            var signature = System.Security.Cryptography.HMACSHA256.HashData(System.Security.Cryptography.SHA256.HashData(clientKey), authMessage);
            var proof = Convert.FromBase64String(clientFinal[(clientFinal.IndexOf(",p=", StringComparison.Ordinal) + 3)..]);
            Assert.Equal(clientKey, proof.Zip(signature, (a, b) => (byte)(a ^ b)).ToArray());
            var serverSignature = System.Security.Cryptography.HMACSHA256.HashData(System.Security.Cryptography.HMACSHA256.HashData(salted, "Server Key"u8), authMessage);
            if (upstreamKind == "no proof")
            {
                await c.SayAsync("235 2.7.0 welcome, whoever you are");
                await c.LineAsync(); // the end: no MAIL to an upstream that proved nothing
                return;
            }
            if (!honest) serverSignature[0] ^= 1;
            await c.SayAsync("334 " + Convert.ToBase64String(Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(serverSignature))));
            Assert.Equal(honest ? "" : "*", await c.LineAsync());
            await c.SayAsync(honest ? "235 2.7.0 ok" : "501 5.7.0 cancelled");
            if (honest) await QuitAsync(c);
        });

        var open = UpstreamSession.OpenAsync(new UpstreamHost("127.0.0.1", upstream.Port), Settings(RelayTlsMode.None) with { Username = "gateway", Password = "secret" }, CancellationToken.None);
        if (honest) await (await open).QuitAsync(CancellationToken.None);
        else Assert.Contains(upstreamKind == "no proof" ? "without proving it knows the password" : "could not prove it knows the password",
            (await Assert.ThrowsAnyAsync<IOException>(() => open)).Message);
        await upstream.Finished(Wait);
        Assert.DoesNotContain("secret", upstream.Received);
    }

    [Fact]
    public async Task AScramTheUpstreamOffersButCannotComplete_IsFollowedByPlain_InTheSameSession()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "AUTH SCRAM-SHA-256 PLAIN");
            Assert.StartsWith("AUTH SCRAM-SHA-256 ", await c.LineAsync());
            await c.SayAsync("535 5.7.8 no SCRAM secret stored for this user");
            Assert.Equal("AUTH PLAIN AGdhdGV3YXkAc2VjcmV0", await c.LineAsync());
            await c.SayAsync("235 2.7.0 ok");
            await QuitAsync(c);
        });

        var session = await UpstreamSession.OpenAsync(new UpstreamHost("127.0.0.1", upstream.Port), Settings(RelayTlsMode.None) with { Username = "gateway", Password = "secret" }, CancellationToken.None);
        await session.QuitAsync(CancellationToken.None);
        await upstream.Finished(Wait);
    }
}
