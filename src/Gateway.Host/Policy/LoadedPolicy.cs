namespace Gateway.Policy;

/// <summary>The policy in force and the bytes it was compiled from (for messages that name its lines), swapped as one.</summary>
public sealed record LoadedPolicy(PolicySnapshot Snapshot, byte[] Json);
