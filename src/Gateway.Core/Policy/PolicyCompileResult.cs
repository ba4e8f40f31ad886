namespace Gateway.Policy;

public sealed record PolicyCompileResult(PolicySnapshot? Snapshot, IReadOnlyList<PolicyError> Errors)
{
    public bool Succeeded => Snapshot is not null && Errors.Count == 0;
}
