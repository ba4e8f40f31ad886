using Gateway.Audit;
using Gateway.Metrics;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Robustness;

/// <summary>
/// The audit log failing in the middle of an attempt, after the upstream accepted the copy: the
/// recipients who got it are saved as delivered all the same, so the next attempt does not send
/// them a second copy (journaled and file entries alike).
/// </summary>
public sealed class AuditFailureAfterDeliveryTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    /// <summary>The first 'delivered' line cannot be written, as on a disk that filled up for a moment.</summary>
    private sealed class FirstDeliveredLineFails(IAuditLog inner) : IAuditLog
    {
        private int _failed;

        public ValueTask WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken) =>
            auditEvent.Event == "delivered" && Interlocked.Exchange(ref _failed, 1) == 0
                ? ValueTask.FromException(new IOException("No space left on device (simulated)"))
                : inner.WriteAsync(auditEvent, cancellationToken);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public async Task DeliveredLineThatCannotBeWritten_DoesNotSendTheCopyAgain(string journal)
    {
        _world.Settings["Gateway:Spool:Journal"] = journal;
        await using var gateway = await RunningGateway.StartAsync(_world, services =>
            services.AddSingleton<IAuditLog>(sp => new FirstDeliveredLineFails(sp.GetRequiredService<CountingAuditLog>())));
        var message = RunningGateway.NewMessage("dave@other.test", "erin@elsewhere.test", "once");
        message.To.Add(MimeKit.MailboxAddress.Parse("frank@elsewhere.test"));
        await gateway.SendAsync(message, "dave@other.test", "erin@elsewhere.test", "frank@elsewhere.test");

        // The attempt stopped at the failed line; the entry is finished by the next one, which has nobody left to send to.
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"), TimeSpan.FromSeconds(30));
        await Task.Delay(500);
        Assert.Single(Directory.GetFiles(_world.OutboxPath, "*.eml"));
    }
}
