namespace Gateway.Policy;

public enum EncryptMode
{
    /// <summary>Encrypt; a recipient without a usable certificate never gets plaintext.</summary>
    Required,
    /// <summary>Encrypt when the recipient has a usable certificate, otherwise send unencrypted.</summary>
    IfPossible,
    Never,
}
