namespace Gateway.Inbound;

/// <summary>What <see cref="EnvelopeOpener"/> made of an inbound message.</summary>
public enum DecryptionOutcome
{
    /// <summary>Not S/MIME enveloped data: passed on as it is.</summary>
    NotEncrypted,

    /// <summary>Decrypted for every envelope recipient: the plaintext is passed on.</summary>
    Decrypted,

    /// <summary>Encrypted, but not for keys we hold for every envelope recipient: passed on encrypted.</summary>
    NotForOurKeys,

    /// <summary>Decryptable, but its content is not signed with a signature that verifies: passed on encrypted (Harvest:DecryptUnsigned).</summary>
    NotSigned,

    /// <summary>Encrypted, and it could not be read (not CMS, a key that does not open it, an unknown algorithm): passed on encrypted.</summary>
    Unreadable,
}
