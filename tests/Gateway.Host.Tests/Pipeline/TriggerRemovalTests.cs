using System.Text;
using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.Policy;
using Gateway.Spool;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// The copy without trigger marks is a plaintext file in spool/work that the attempt deletes once it
/// is its source; one that fails while it is written is not that yet, and must not stay behind.
/// </summary>
public sealed class TriggerRemovalTests : IDisposable
{
    private const string TriggerPolicy = """
        {
          "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
          "triggers": { "subjectTag": "[secure]", "allowedSenders": [ "example.test" ] }
        }
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("gateway-trigger-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private ProcessingContext MarkedMessage(FileSpool spool)
    {
        var bytes = Encoding.ASCII.GetBytes("Subject: [secure] figures\r\nFrom: alice@example.test\r\n\r\nSecret figures: 42.\r\n");
        var content = SpooledContent.InMemory(bytes, bytes.Length);
        var envelope = FileSpool.NewEnvelope(SpoolId.New(DateTimeOffset.UtcNow), "alice@example.test", ["bob@partner.test"], "127.0.0.1", null,
            DateTimeOffset.UtcNow, bytes.Length, null);
        var policy = PolicyCompiler.Compile(Encoding.UTF8.GetBytes(TriggerPolicy), "policy.json").Snapshot!;
        return new ProcessingContext(envelope, content, policy, MessageHeaders.Read(content), TimeProvider.System);
    }

    /// <remarks>
    /// The failure here is the attempt's cancellation (a stop's timeout cuts it); a full disk or a
    /// read error fails the same write the same way. MessageProcessor deletes only the context's
    /// Source, and this copy never became it: each failed attempt left one more.
    /// </remarks>
    [Fact]
    public async Task CopyWithoutMarksThatFails_LeavesNoPlaintextPartInTheSpool()
    {
        var spool = new FileSpool(Options.Create(new GatewayOptions { Spool = new SpoolOptions { Path = _root } }), TimeProvider.System, NullLogger<FileSpool>.Instance);
        spool.EnsureFolders();
        var made = await TriggerRemoval.PrepareAsync(spool, MarkedMessage(spool), CancellationToken.None);
        Assert.True(made is { IsWorkFile: true }, "the marked message should be copied to work/");
        File.Delete(made.Path!);
        using var cut = new CancellationTokenSource();
        await cut.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TriggerRemoval.PrepareAsync(spool, MarkedMessage(spool), cut.Token));

        Assert.Empty(Directory.GetFiles(spool.Work));
    }
}
