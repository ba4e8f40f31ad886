namespace Gateway.Configuration;

/// <summary>Passwords kept in files: the first line, without the CR of a file saved with CRLF.</summary>
public static class SecretFile
{
    public static string FirstLine(string path) => (File.ReadLines(path).FirstOrDefault() ?? string.Empty).TrimEnd('\r');
}
