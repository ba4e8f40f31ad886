using Gateway.Configuration;
using Gateway.Policy;
using Gateway.Tests.Ca;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Policy;

/// <summary>What the policy provider says as the file is edited, rejected and put back.</summary>
public sealed class PolicyProviderTests : IDisposable
{
    private readonly GatewayWorld _world = new();
    private readonly CapturedLog _log = new();
    private readonly ILoggerFactory _loggers;
    private readonly PolicyProvider _provider;

    public PolicyProviderTests()
    {
        var options = Options.Create(new GatewayOptions { Policy = new PolicyOptions { Path = _world.PolicyPath } });
        _loggers = LoggerFactory.Create(b => b.AddProvider(_log));
        _provider = new PolicyProvider(options, new CaFixture.RecordingAudit(), _loggers.CreateLogger<PolicyProvider>());
        Assert.True(_provider.Load().Succeeded);
    }

    public void Dispose()
    {
        _loggers.Dispose();
        _world.Dispose();
    }

    [Fact]
    public async Task FileRestoredAfterARejectedEdit_LogsThatThePolicyInForceIsBack_Once()
    {
        await File.WriteAllTextAsync(_world.PolicyPath, "{ \"default\": ");
        Assert.False((await _provider.ReloadAsync(default))!.Succeeded);
        await File.WriteAllTextAsync(_world.PolicyPath, GatewayWorld.SamplePolicy);

        Assert.Null(await _provider.ReloadAsync(default));
        Assert.Null(await _provider.ReloadAsync(default)); // the periodic check again: nothing new to say

        var restored = Assert.Single(_log.Events(3007));
        Assert.Contains($"Policy {_world.PolicyPath} is back to revision {_provider.Current.Revision}, the policy in force", restored.Message);
    }

    [Fact]
    public async Task UnchangedFile_LogsNothing()
    {
        Assert.Null(await _provider.ReloadAsync(default));
        Assert.Empty(_log.Events(3007));
    }
}
