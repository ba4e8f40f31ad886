using System.Text.RegularExpressions;

namespace Gateway.Tests.Fixtures;

/// <summary>The spool id in the gateway's "250 2.0.0 queued as ID" reply.</summary>
public static partial class QueuedReply
{
    /// <summary>Null when the reply names no spool id (a refusal, a closed connection).</summary>
    public static string? TryId(string reply) => Pattern().Match(reply) is { Success: true } match ? match.Groups[1].Value : null;

    public static string Id(string reply) => TryId(reply) ?? throw new Xunit.Sdk.XunitException($"250 reply without a queue id: {reply}");

    [GeneratedRegex("queued as ([0-9A-Z]{22})")]
    private static partial Regex Pattern();
}
