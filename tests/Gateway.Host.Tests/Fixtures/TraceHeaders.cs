namespace Gateway.Tests.Fixtures;

/// <summary>Every accepted message gets a Received line and our loop marker on top; tests compare what lies below.</summary>
public static class TraceHeaders
{
    public static string Strip(string relayed, string serverName = "gateway.localdomain")
    {
        Assert.StartsWith("Received: from [127.0.0.1]\r\n\tby ", relayed);
        var marker = $"X-Gateway-Loop: {serverName}\r\n";
        var at = relayed.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at > 0, "no loop marker in the relayed message");
        return relayed[(at + marker.Length)..];
    }
}
