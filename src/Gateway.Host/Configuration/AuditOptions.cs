namespace Gateway.Configuration;

public sealed class AuditOptions
{
    /// <summary>JSON lines file, appended to; one line per decision and per outcome.</summary>
    public string Path { get; set; } = "var/audit.jsonl";
}
