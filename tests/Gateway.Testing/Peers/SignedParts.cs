namespace Gateway.Testing.Peers;

/// <summary>
/// The two halves of a multipart/signed message: Content is byte-exact (CRLF canonical) as it
/// was signed; Signature is the decoded DER of the application/pkcs7-signature part.
/// </summary>
public sealed record SignedParts(byte[] Content, byte[] Signature);
