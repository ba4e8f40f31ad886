namespace Gateway.Policy;

/// <summary>A problem in the policy file, located so an admin can jump to it (lines and columns from 1).</summary>
public sealed record PolicyError(string File, int Line, int Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}
