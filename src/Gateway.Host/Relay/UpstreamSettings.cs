using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;

namespace Gateway.Relay;

/// <summary>How sessions with the upstream are opened: Relay:* as bound, with the TLS check it implies.</summary>
/// <param name="Validation">Null: the system's own check of the upstream's certificate against its trusted roots.</param>
internal sealed record UpstreamSettings(string HeloName, TimeSpan Timeout, RelayTlsMode TlsMode, RemoteCertificateValidationCallback? Validation,
    string? Username, string? Password, bool Chunking, bool Pipelining)
{
    /// <summary>The settings Relay:* asks for, with the TLS check they imply.</summary>
    public static UpstreamSettings For(RelayOptions relay, string heloName)
    {
        var authority = string.IsNullOrEmpty(relay.CaCertificatePath) ? null : X509CertificateLoader.LoadCertificateFromFile(relay.CaCertificatePath);
        RemoteCertificateValidationCallback? validation = relay.TlsMode switch
        {
            RelayTlsMode.Opportunistic => (_, _, _, _) => true, // opportunistic: encrypt against passive listeners only
            RelayTlsMode.Required when authority is not null => (_, certificate, _, errors) => UpstreamValidation.Validate(certificate, errors, authority),
            _ => null,
        };
        return new UpstreamSettings(heloName, relay.Timeout, relay.TlsMode, validation, relay.Username, relay.Password, relay.Chunking, relay.Pipelining);
    }

    public override string ToString() => $"UpstreamSettings {{ HeloName = {HeloName}, TlsMode = {TlsMode}, Username = {Username} }}"; // never the password
}
