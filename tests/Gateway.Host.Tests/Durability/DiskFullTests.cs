using System.Text;
using Gateway.Testing;
using Gateway.Tests.Fixtures;
using MailKit.Net.Smtp;
using MimeKit;
using Xunit.Abstractions;

namespace Gateway.Tests.Durability;

/// <summary>
/// The spool on a 2 MB tmpfs with the upstream down: clients get 452 4.3.1 once it fills, no
/// half-written entry is left, and when the upstream comes back everything that got 250 is
/// delivered exactly once. Mounting needs root (CAP_SYS_ADMIN); without it the test fails and says so.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int BodyBytes = 100 * 1024;
    private const int MaxMessages = 60;
    private readonly GatewayWorld _world = new();
    private readonly ReservedPort _upstream = new();
    private bool _mounted;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        if (_mounted) await ToolProcess.RunAsync("umount", ["-l", _world.SpoolPath]);
        _world.Dispose();
    }

    private async Task MountTinySpoolAsync()
    {
        Directory.CreateDirectory(_world.SpoolPath);
        var mount = await ToolProcess.RunAsync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", _world.SpoolPath]);
        Assert.True(mount.ExitCode == 0,
            $"mount -t tmpfs -o size=2m tmpfs {_world.SpoolPath} failed (exit {mount.ExitCode}): {mount.Stderr.Trim()}. " +
            "This test needs root (CAP_SYS_ADMIN) to mount a tiny tmpfs; run the suite as root, as CI does.");
        _mounted = true;
    }

    /// <param name="reserve">Gateway:Spool:MinimumFreeSpace; "0" lets the disk itself run out (ENOSPC).</param>
    [Theory]
    [InlineData("0", "dave@other.test", "erin@elsewhere.test", "ENOSPC, plain copies")]
    [InlineData("600000", "alice@example.test", "bob@partner.test", "free-space reserve, sign+encrypt copies in work/")]
    public async Task SpoolFillsUp_Clients452_NothingHalfWritten_EverythingAcknowledgedIsDeliveredWhenTheUpstreamReturns(
        string reserve, string from, string to, string description)
    {
        await MountTinySpoolAsync();
        _world.RelayTo(_upstream.Port);
        _world.Settings["Gateway:Spool:MinimumFreeSpace"] = reserve;
        _world.Settings["Gateway:Relay:Timeout"] = "00:00:05";
        await using var gateway = await RunningGateway.StartAsync(_world);
        var body = new StringBuilder();
        while (body.Length < BodyBytes) body.Append("All work and no play makes Jack a dull boy. 0123456789\r\n");

        var acknowledged = new List<string>();
        string? refusal = null;
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", gateway.Port, MailKit.Security.SecureSocketOptions.None);
            for (var n = 0; n < MaxMessages && refusal is null; n++)
            {
                var subject = $"full-{n:D3}";
                try
                {
                    await client.SendAsync(RunningGateway.NewMessage(from, to, subject, body.ToString()), new MailboxAddress("", from), [new MailboxAddress("", to)]);
                    acknowledged.Add(subject);
                }
                catch (SmtpCommandException e)
                {
                    refusal = $"{(int)e.StatusCode} {e.Message}";
                }
            }
        }
        var incoming = Path.Combine(_world.SpoolPath, "incoming");
        var emls = Directory.GetFiles(incoming, "*.eml").Select(Path.GetFileNameWithoutExtension).Order().ToList();
        var jsons = Directory.GetFiles(incoming, "*.json").Select(Path.GetFileNameWithoutExtension).Order().ToList();
        var leftovers = Directory.GetFiles(incoming, "*.tmp");

        Assert.True(refusal is not null, $"{MaxMessages} messages of {BodyBytes} bytes were all accepted on a 2 MB spool");
        Assert.StartsWith("452", refusal);
        Assert.Contains("4.3.1", refusal);
        Assert.Equal(jsons, emls);
        Assert.Empty(leftovers);
        Assert.Equal(acknowledged.Count, jsons.Count);

        var sink = await _upstream.StartSinkAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Directory.GetFiles(incoming, "*.json").Length > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        var subjects = sink.Messages.GroupBy(m => m.Parse().Subject ?? "").ToDictionary(g => g.Key, g => g.Count());
        var missing = acknowledged.Where(s => !subjects.ContainsKey(s)).ToList();
        var afterwards = await gateway.SendAsync(RunningGateway.NewMessage(from, to, "after the drain"), from, to);

        output.WriteLine($"{description}: 250 for {acknowledged.Count} messages of {BodyBytes / 1024} KB, then '{refusal}'; " +
                         $"incoming at refusal: {emls.Count} .eml / {jsons.Count} .json / {leftovers.Length} .tmp; " +
                         $"delivered after the upstream returned: {acknowledged.Count - missing.Count}, duplicates: {subjects.Values.Sum(c => c - 1)}");
        Assert.True(missing.Count == 0, $"lost after the disk filled: {string.Join(", ", missing)}\naudit:\n" +
            string.Join("\n", gateway.AuditEvents().Select(e => e.GetRawText()).TakeLast(30)));
        Assert.All(subjects.Values, count => Assert.Equal(1, count));
        Assert.StartsWith("2.0.0 queued as", afterwards.Trim());
    }
}
