using Microsoft.Extensions.Options;

namespace Gateway.Configuration;

/// <summary>
/// Smtp:Tls's certificate and key, loaded as the listener loads them: a file it cannot read
/// stops the start before anything listens, not the listener after. Only for the service
/// (<c>gateway run</c>): the admin tools never read the server's private key, so they run from a
/// shell without its password (kept in the service's environment file) or read access to the key.
/// </summary>
public sealed class ServerCertificateValidation : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var tls = options.Smtp.Tls;
        // A missing file is GatewayOptionsValidator's to name.
        if (string.IsNullOrEmpty(tls.CertificatePath) || !File.Exists(tls.CertificatePath)) return ValidateOptionsResult.Success;
        if (!string.IsNullOrEmpty(tls.KeyPath) && !File.Exists(tls.KeyPath)) return ValidateOptionsResult.Success;
        try
        {
            using var certificate = Gateway.Smtp.ServerCertificateFactory.Load(tls);
            return ValidateOptionsResult.Success;
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            return ValidateOptionsResult.Fail(e.Message); // starts with the key
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ValidateOptionsResult.Fail($"Gateway:Smtp:Tls: cannot read the server certificate: {e.Message}");
        }
    }
}
