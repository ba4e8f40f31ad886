using Gateway.Policy;

namespace Gateway.Pipeline;

/// <summary>
/// Recipients that receive the same bytes. A copy is only ever made for one group, so a
/// recipient who must get ciphertext never shares a copy with one who may get plaintext.
/// </summary>
public sealed record DeliveryGroup(int Number, bool Sign, bool Encrypt, CryptoSettings Crypto, IReadOnlyList<PlannedRecipient> Recipients)
{
    public string Describe() => (Sign, Encrypt) switch
    {
        (true, true) => "signed+encrypted",
        (false, true) => "encrypted",
        (true, false) => "signed",
        _ => "unchanged",
    };
}
