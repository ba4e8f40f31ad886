using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Fixtures;

/// <summary>The gateway's log events, with when they were written, for tests that observe what leaves no audit line.</summary>
public sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<(DateTimeOffset Time, int EventId, string Message)> _events = new();

    /// <summary>For <see cref="RunningGateway.StartAsync"/>: adds this capture to the gateway's loggers.</summary>
    public void AddTo(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(this);

    public IReadOnlyList<(DateTimeOffset Time, int EventId, string Message)> Events(int eventId) => _events.Where(e => e.EventId == eventId).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log._events.Enqueue((DateTimeOffset.UtcNow, eventId.Id, formatter(state, exception)));
    }
}
