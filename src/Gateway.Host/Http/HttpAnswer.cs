namespace Gateway.Http;

/// <summary>A whole answer, made before anything is sent, so a failure while making it is a 500 and never half a page.</summary>
public sealed record HttpAnswer(int Status, string? ContentType, byte[] Body)
{
    public static readonly HttpAnswer NotFound = Empty(404);

    public static HttpAnswer Ok(string contentType, byte[] body) => new(200, contentType, body);

    public static HttpAnswer Empty(int status) => new(status, null, []);

    public string Reason => Status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        421 => "Misdirected Request",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Unknown",
    };
}
