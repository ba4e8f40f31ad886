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

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public async Task DeliveredLineThatCannotBeWritten_DoesNotSendTheCopyAgain(string journal)
    {
        _world.Settings["Gateway:Spool:Journal"] = journal;
        await using var gateway = await RunningGateway.StartAsync(_world, services =>
            services.AddSingleton<IAuditLog>(sp => new FirstLineFails(sp.GetRequiredService<CountingAuditLog>(), "delivered")));
        var message = RunningGateway.NewMessage("dave@other.test", "erin@elsewhere.test", "once");
        message.To.Add(MimeKit.MailboxAddress.Parse("frank@elsewhere.test"));
        await gateway.SendAsync(message, "dave@other.test", "erin@elsewhere.test", "frank@elsewhere.test");

        // The attempt stopped at the failed line; the entry is finished by the next one, which has nobody left to send to.
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"), TimeSpan.FromSeconds(30));
        await Task.Delay(500);
        Assert.Single(Directory.GetFiles(_world.OutboxPath, "*.eml"));
    }
}
