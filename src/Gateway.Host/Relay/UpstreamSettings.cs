using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;

namespace Gateway.Relay;

/// <summary>How sessions with the upstream are opened: Relay:* as bound, with the TLS check it implies.</summary>
/// <param name="Validation">Null: the system's own check of the upstream's certificate against its trusted roots.</param>
internal sealed record UpstreamSettings(string HeloName, TimeSpan Timeout, RelayTlsMode TlsMode, RemoteCertificateValidationCallback? Validation,
    string? Username, string? Password, bool Chunking, bool Pipelining)
{
    /// <summary>
    /// RFC 5321 §4.5.3.2.6: a client waits 10 minutes for the reply to the end of the data. The
    /// upstream answers only once it has the message safe (queued, filtered, scanned, fsynced), which
    /// can take far longer than any other command; given up sooner, the copy is deferred though the
    /// upstream may have queued it, and every retry delivers it once more.
    /// </summary>
    public static readonly TimeSpan DataTerminationTimeout = TimeSpan.FromMinutes(10);

    /// <summary>How long the reply to the final dot or BDAT LAST is waited for; never less than <see cref="Timeout"/>.</summary>
    public TimeSpan FinalReplyTimeout
    {
        get => field > Timeout ? field : Timeout;
        init;
    } = DataTerminationTimeout;

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
        return new UpstreamSettings(heloName, relay.Timeout, relay.TlsMode, validation, relay.Username, relay.Password, relay.Chunking, relay.Pipelining)
        {
            FinalReplyTimeout = relay.FinalReplyTimeout,
        };
    }

    public override string ToString() => $"UpstreamSettings {{ HeloName = {HeloName}, TlsMode = {TlsMode}, Username = {Username} }}"; // never the password
}
