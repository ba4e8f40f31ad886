using Gateway.Smtp;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway auth hash USER</c>: reads a password from standard input (first line) and prints the
/// <c>user:$pbkdf2-sha256$…</c> line for Gateway:Smtp:Auth:UsersFile. The password never appears on
/// the command line, where other users could see it in the process list.
/// </summary>
public static class AuthHashCommand
{
    public static int Execute(string user, TextReader input, TextWriter output, TextWriter error)
    {
        if (user.Length == 0 || user.Contains(':') || user.Any(char.IsWhiteSpace))
        {
            error.WriteLine($"auth hash: user name '{user}' must not be empty or contain ':' or spaces");
            return 1;
        }
        var password = input.ReadLine();
        if (string.IsNullOrEmpty(password))
        {
            error.WriteLine("auth hash: no password on standard input (e.g. read -rs P && printf '%s\\n' \"$P\" | gateway auth hash USER)");
            return 1;
        }
        output.WriteLine($"{user}:{PasswordHash.Create(password)}");
        return 0;
    }
}
