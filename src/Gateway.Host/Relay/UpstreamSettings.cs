using System.Net.Security;
using Gateway.Configuration;

namespace Gateway.Relay;

/// <summary>How sessions with the upstream are opened: Relay:* as bound, with the TLS check it implies.</summary>
/// <param name="Validation">Null: the system's own check of the upstream's certificate against its trusted roots.</param>
internal sealed record UpstreamSettings(string HeloName, TimeSpan Timeout, RelayTlsMode TlsMode, RemoteCertificateValidationCallback? Validation,
    string? Username, string? Password, bool Chunking, bool Pipelining)
{
    public override string ToString() => $"UpstreamSettings {{ HeloName = {HeloName}, TlsMode = {TlsMode}, Username = {Username} }}"; // never the password
}
