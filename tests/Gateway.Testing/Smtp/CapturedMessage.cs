using MimeKit;

namespace Gateway.Testing.Smtp;

/// <summary>One message as the sink received it. Data is the full message including its final CRLF.</summary>
public sealed record CapturedMessage(string MailFrom, IReadOnlyList<string> RcptTo, byte[] Data)
{
    /// <summary>The MAIL FROM parameters (SIZE, BODY, ENVID, RET, ...), names in upper case.</summary>
    public IReadOnlyDictionary<string, string> MailParameters { get; init; } = new Dictionary<string, string>();

    public MimeMessage Parse()
    {
        using var stream = new MemoryStream(Data, writable: false);
        return MimeMessage.Load(stream);
    }

    /// <summary>Writes Data to a file, e.g. for openssl cms or gpgsm.</summary>
    public string WriteTo(string path)
    {
        File.WriteAllBytes(path, Data);
        return path;
    }
}
