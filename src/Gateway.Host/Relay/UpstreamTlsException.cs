namespace Gateway.Relay;

/// <summary>
/// The TLS handshake after STARTTLS failed: the session is unusable. With Relay:TlsMode
/// Opportunistic the pool then opens another without STARTTLS, as Postfix does at its "may" level.
/// </summary>
internal sealed class UpstreamTlsException(string message, Exception inner) : IOException(message, inner);
