using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Smtp;

/// <summary>
/// Salted PBKDF2-SHA256 password hashes in the form <c>$pbkdf2-sha256$iterations$salt$hash</c>
/// (salt and hash in base64), compared in constant time.
/// </summary>
public sealed record PasswordHash(int Iterations, byte[] Salt, byte[] Hash)
{
    public const string Scheme = "$pbkdf2-sha256$";

    /// <summary>OWASP's 2023 figure for PBKDF2-HMAC-SHA256.</summary>
    public const int DefaultIterations = 600_000;

    /// <summary>Fewer makes a stolen file cheap to brute-force; such a line is refused at start.</summary>
    public const int MinimumIterations = 100_000;

    public static PasswordHash Create(string password, int iterations = DefaultIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        return new PasswordHash(iterations, salt, Derive(password, salt, iterations));
    }

    public static bool TryParse(string text, out PasswordHash? hash, out string? error)
    {
        hash = null;
        var parts = text.Split('$');
        // "", "pbkdf2-sha256", iterations, salt, hash
        if (parts.Length != 5 || parts[0].Length != 0 || parts[1] != "pbkdf2-sha256")
        {
            error = $"not a {Scheme}iterations$salt$hash value";
            return false;
        }
        if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < MinimumIterations)
        {
            error = $"iterations must be a number of at least {MinimumIterations}";
            return false;
        }
        try
        {
            var salt = Convert.FromBase64String(parts[3]);
            var value = Convert.FromBase64String(parts[4]);
            if (salt.Length < 8 || value.Length != 32)
            {
                error = "salt must be at least 8 bytes and hash 32 bytes";
                return false;
            }
            hash = new PasswordHash(iterations, salt, value);
            error = null;
            return true;
        }
        catch (FormatException)
        {
            error = "salt and hash must be base64";
            return false;
        }
    }

    public bool Verify(string password) => CryptographicOperations.FixedTimeEquals(Derive(password, Salt, Iterations), Hash);

    public override string ToString() => $"{Scheme}{Iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(Salt)}${Convert.ToBase64String(Hash)}";

    private static byte[] Derive(string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
}
