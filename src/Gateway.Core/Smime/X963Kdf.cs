using System.Security.Cryptography;

namespace Gateway.Smime;

/// <summary>ANSI X9.63 KDF (SEC 1 §3.6.1), as CMS ECDH key agreement uses it (RFC 5753 §3.1.2).</summary>
internal static class X963Kdf
{
    /// <summary>Hash(Z || counter || SharedInfo) for counter 1, 2, … until <paramref name="length"/> bytes are made.</summary>
    public static byte[] Derive(byte[] shared, HashAlgorithmName hash, int length, byte[] sharedInfo)
    {
        var key = new byte[length];
        var written = 0;
        for (uint counter = 1; written < key.Length; counter++)
        {
            using var hasher = IncrementalHash.CreateHash(hash);
            hasher.AppendData(shared);
            hasher.AppendData([(byte)(counter >> 24), (byte)(counter >> 16), (byte)(counter >> 8), (byte)counter]);
            hasher.AppendData(sharedInfo);
            var block = hasher.GetHashAndReset();
            var take = Math.Min(block.Length, key.Length - written);
            block.AsSpan(0, take).CopyTo(key.AsSpan(written));
            CryptographicOperations.ZeroMemory(block);
            written += take;
        }
        return key;
    }
}
