using System.Security.Cryptography;
using System.Text;

namespace Gateway.Relay;

/// <summary>
/// The client side of SASL SCRAM (RFC 5802; SCRAM-SHA-256, RFC 7677) without channel binding:
/// the upstream learns no password, and proves in turn that it knows the one it stored, so an
/// upstream that is not the one configured is found out even where TLS would not tell.
/// </summary>
internal sealed class ScramClient
{
    /// <summary>A server asking for more iterations than this is refused: each one is CPU spent before any mail moves.</summary>
    private const int MaxIterations = 1_000_000;

    /// <summary>
    /// RFC 7677 §4's floor: a server (or one posing as it) that asks for fewer would get a proof
    /// whose password is cheap to guess offline.
    /// </summary>
    private const int MinIterations = 4096;
    private readonly HashAlgorithmName _hash;
    private readonly string _password;
    private readonly string _nonce;
    private readonly string _firstBare;
    private byte[]? _serverSignature;

    public ScramClient(HashAlgorithmName hash, string user, string password, string? nonce = null)
    {
        _hash = hash;
        _password = password;
        _nonce = nonce ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        _firstBare = $"n={user.Replace("=", "=3D").Replace(",", "=2C")},r={_nonce}";
    }

    /// <summary>"n,," (no channel binding, none requested) and the bare first message.</summary>
    public string ClientFirst => "n,," + _firstBare;

    /// <returns>The final message with the client's proof, or null and why the server's first message is refused.</returns>
    public string? ClientFinal(string serverFirst, out string? error)
    {
        string? nonce = null, salt = null, iterations = null;
        foreach (var attribute in serverFirst.Split(','))
        {
            if (attribute.Length < 2 || attribute[1] != '=') { error = "the server's first message is malformed"; return null; }
            switch (attribute[0])
            {
                case 'r': nonce = attribute[2..]; break;
                case 's': salt = attribute[2..]; break;
                case 'i': iterations = attribute[2..]; break;
                case 'm': error = "the server asks for an extension SCRAM clients must refuse"; return null;
            }
        }
        if (nonce is null || !nonce.StartsWith(_nonce, StringComparison.Ordinal) || nonce.Length == _nonce.Length)
        {
            error = "the server's nonce does not extend ours";
            return null;
        }
        if (!int.TryParse(iterations, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) || count is < MinIterations or > MaxIterations)
        {
            error = $"the server asks for {iterations ?? "no"} iterations ({MinIterations} to {MaxIterations} are done)";
            return null;
        }
        byte[] saltBytes;
        try
        {
            saltBytes = Convert.FromBase64String(salt ?? throw new FormatException());
            if (saltBytes.Length == 0) throw new FormatException();
        }
        catch (FormatException)
        {
            error = "the server's salt is not base64";
            return null;
        }
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(Prepared(_password)), saltBytes, count, _hash, HashLength);
        var clientKey = Hmac(salted, "Client Key"u8);
        var storedKey = CryptographicOperations.HashData(_hash, clientKey);
        var withoutProof = $"c={Convert.ToBase64String("n,,"u8)},r={nonce}";
        var authMessage = Encoding.UTF8.GetBytes($"{_firstBare},{serverFirst},{withoutProof}");
        var proof = Hmac(storedKey, authMessage);
        for (var i = 0; i < proof.Length; i++) proof[i] ^= clientKey[i];
        _serverSignature = Hmac(Hmac(salted, "Server Key"u8), authMessage);
        var final = $"{withoutProof},p={Convert.ToBase64String(proof)}";
        // Either is enough to log in as this user; the proof goes on the wire anyway.
        CryptographicOperations.ZeroMemory(salted);
        CryptographicOperations.ZeroMemory(clientKey);
        error = null;
        return final;
    }

    /// <summary>Whether the server's final message ("v=…", perhaps followed by extensions) proves it knows the stored password.</summary>
    public bool VerifiesServer(string serverFinal) =>
        _serverSignature is not null && serverFinal.StartsWith("v=", StringComparison.Ordinal)
        && TryBase64(serverFinal[2..].Split(',')[0]) is { } signature && CryptographicOperations.FixedTimeEquals(signature, _serverSignature);

    /// <summary>SASLprep (RFC 4013) is close to NFKC, and the same for ASCII; text that cannot be normalised (a lone surrogate) goes as it is.</summary>
    private static string Prepared(string password)
    {
        try
        {
            return password.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            return password;
        }
    }

    private int HashLength => _hash == HashAlgorithmName.SHA1 ? 20 : 32;

    private byte[] Hmac(byte[] key, ReadOnlySpan<byte> data) =>
        _hash == HashAlgorithmName.SHA1 ? HMACSHA1.HashData(key, data) : HMACSHA256.HashData(key, data);

    private static byte[]? TryBase64(string text)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
