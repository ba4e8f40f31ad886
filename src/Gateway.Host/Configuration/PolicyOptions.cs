namespace Gateway.Configuration;

public sealed class PolicyOptions
{
    public string Path { get; set; } = "policy.json";

    /// <summary>
    /// How often the file is compared with the loaded revision, besides the file-system watcher
    /// (which can miss events on network and container file systems).
    /// </summary>
    public TimeSpan ReloadCheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}
