namespace Gateway.Smtp;

/// <summary>
/// The users who may AUTH, read from Gateway:Smtp:Auth:UsersFile: one <c>user:hash[:senders]</c>
/// per line (the hash from <c>gateway auth hash</c>), '#' comments and blank lines ignored. Never a
/// plaintext password. <c>senders</c> lists, comma-separated, the MAIL FROM addresses the user
/// owns: an address, or <c>@domain</c> (or <c>*@domain</c>) for every address there.
/// </summary>
public sealed class SmtpUsers
{
    // Checked when the user is unknown, so a wrong name costs as long as a wrong password.
    private static readonly PasswordHash Decoy = PasswordHash.Create(Guid.NewGuid().ToString(), PasswordHash.MinimumIterations);

    private readonly Dictionary<string, SmtpUser> _users;

    private SmtpUsers(Dictionary<string, SmtpUser> users) => _users = users;

    public int Count => _users.Count;

    /// <summary>Users who own no sender address: no login that is an address, and none listed.</summary>
    public IEnumerable<string> WithoutSenders => _users.Where(u => u.Value.Senders.Count == 0 && !IsAddress(u.Key)).Select(u => u.Key).Order(StringComparer.Ordinal);

    /// <summary>Reads the file; errors name the file and line, never a hash.</summary>
    public static (SmtpUsers Users, IReadOnlyList<string> Errors) Load(string path)
    {
        var users = new Dictionary<string, SmtpUser>(StringComparer.Ordinal);
        var errors = new List<string>();
        var number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var fields = line.Split(':', StringSplitOptions.TrimEntries);
            if (fields.Length is < 2 or > 3 || fields[0].Length == 0)
            {
                errors.Add($"{path}:{number}: expected user:{PasswordHash.Scheme}iterations$salt$hash, optionally followed by :sender,@domain,…");
                continue;
            }
            var user = fields[0];
            if (!PasswordHash.TryParse(fields[1], out var hash, out var error))
            {
                errors.Add($"{path}:{number}: user '{user}': {error}");
                continue;
            }
            // "user:hash:" and a trailing comma list nothing more: empty entries are not senders.
            // "*@domain", the policy's spelling of a whole domain, is "@domain" here.
            var senders = fields.Length == 3
                ? fields[2].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => s.StartsWith("*@", StringComparison.Ordinal) ? s[1..] : s).ToArray()
                : [];
            if (senders.FirstOrDefault(s => !IsSender(s)) is { } bad)
            {
                errors.Add($"{path}:{number}: user '{user}': sender '{bad}' is neither an address (local@domain) nor @domain");
                continue;
            }
            if (!users.TryAdd(user, new SmtpUser(hash!, senders))) errors.Add($"{path}:{number}: user '{user}' is listed twice");
        }
        return (new SmtpUsers(users), errors);
    }

    public bool Verify(string user, string password)
    {
        if (_users.TryGetValue(user, out var entry)) return entry.Hash.Verify(password);
        Decoy.Verify(password);
        return false;
    }

    /// <summary>
    /// Whether <paramref name="user"/> owns <paramref name="address"/> as MAIL FROM: one listed for
    /// it, an address of a listed @domain, or, with none listed, its login when that is an address.
    /// The null sender (bounces) belongs to nobody and passes.
    /// </summary>
    public bool Owns(string user, string address)
    {
        if (address.Length == 0) return true;
        if (!_users.TryGetValue(user, out var entry)) return false;
        if (entry.Senders.Count == 0) return IsAddress(user) && string.Equals(user, address, StringComparison.OrdinalIgnoreCase);
        var at = address.LastIndexOf('@');
        var domain = at < 0 ? null : address[at..];
        return entry.Senders.Any(s => string.Equals(s, address, StringComparison.OrdinalIgnoreCase) || (domain is not null && string.Equals(s, domain, StringComparison.OrdinalIgnoreCase)));
    }

    private static bool IsAddress(string text)
    {
        var at = text.LastIndexOf('@');
        return at > 0 && at < text.Length - 1;
    }

    private static bool IsSender(string text)
    {
        var at = text.LastIndexOf('@');
        // A '*' matches nothing here: refused rather than kept as a literal that owns no sender.
        return at >= 0 && at < text.Length - 1 && text.IndexOf('@') == at && !text.Any(char.IsWhiteSpace) && !text.Contains('*');
    }

    private sealed record SmtpUser(PasswordHash Hash, IReadOnlyList<string> Senders);
}
