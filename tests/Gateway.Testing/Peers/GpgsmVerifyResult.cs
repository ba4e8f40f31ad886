namespace Gateway.Testing.Peers;

/// <summary>
/// gpgsm --verify outcome. gpgsm exits 0 only for a good signature from a trusted root; an
/// untrusted root still gives GOODSIG (with TRUST_UNDEFINED) and exit 2, hence both flags.
/// </summary>
public sealed record GpgsmVerifyResult(
    bool Success, int ExitCode, bool GoodSignature, bool Trusted, string Status, string Stderr);
