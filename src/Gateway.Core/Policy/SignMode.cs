namespace Gateway.Policy;

public enum SignMode
{
    /// <summary>Sign; a sender without a usable signing identity follows the missing-certificate action.</summary>
    Always,
    /// <summary>Sign when the sender has a usable identity, otherwise send unsigned.</summary>
    IfPossible,
    Never,
}
