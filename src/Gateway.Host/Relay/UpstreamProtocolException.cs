namespace Gateway.Relay;

/// <summary>
/// The upstream broke the protocol, or refused to open a session (greeting, EHLO, STARTTLS, AUTH).
/// An IOException: the connection is given up and the copy deferred (451 4.4.1), as for a lost
/// connection. A misconfigured or broken upstream never costs accepted mail; the queue's
/// MaximumLifetime still returns it in the end.
/// </summary>
internal sealed class UpstreamProtocolException(string message) : IOException(message);
