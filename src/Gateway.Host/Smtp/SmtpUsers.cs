namespace Gateway.Smtp;

/// <summary>
/// The users who may AUTH, read from Gateway:Smtp:Auth:UsersFile: one <c>user:hash</c> per line
/// (from <c>gateway auth hash</c>), '#' comments and blank lines ignored. Never a plaintext password.
/// </summary>
public sealed class SmtpUsers
{
    // Checked when the user is unknown, so a wrong name costs as long as a wrong password.
    private static readonly PasswordHash Decoy = PasswordHash.Create(Guid.NewGuid().ToString(), PasswordHash.MinimumIterations);

    private readonly Dictionary<string, PasswordHash> _users;

    private SmtpUsers(Dictionary<string, PasswordHash> users) => _users = users;

    public int Count => _users.Count;

    /// <summary>Reads the file; errors name the file and line, never a hash.</summary>
    public static (SmtpUsers Users, IReadOnlyList<string> Errors) Load(string path)
    {
        var users = new Dictionary<string, PasswordHash>(StringComparer.Ordinal);
        var errors = new List<string>();
        var number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                errors.Add($"{path}:{number}: expected user:{PasswordHash.Scheme}iterations$salt$hash");
                continue;
            }
            var user = line[..colon];
            if (!PasswordHash.TryParse(line[(colon + 1)..], out var hash, out var error)) errors.Add($"{path}:{number}: user '{user}': {error}");
            else if (!users.TryAdd(user, hash!)) errors.Add($"{path}:{number}: user '{user}' is listed twice");
        }
        return (new SmtpUsers(users), errors);
    }

    public bool Verify(string user, string password)
    {
        if (_users.TryGetValue(user, out var hash)) return hash.Verify(password);
        Decoy.Verify(password);
        return false;
    }
}
