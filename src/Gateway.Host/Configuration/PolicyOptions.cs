namespace Gateway.Configuration;

public sealed class PolicyOptions
{
    public string Path { get; set; } = "policy.json";
}
