using System.Net;
using Gateway.Http;
using Gateway.Mail;
using Microsoft.Extensions.Options;

namespace Gateway.Configuration;

/// <summary>Checks the settings at start, so a bad value stops Gateway with the key named, not mail later.</summary>
public sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var errors = new List<string>();
        var smtp = options.Smtp;
        if (!IPAddress.TryParse(smtp.Address, out _)) errors.Add($"Gateway:Smtp:Address: '{smtp.Address}' is not an IP address");
        if (smtp.Port is < 0 or > 65535) errors.Add($"Gateway:Smtp:Port: {smtp.Port} is not a TCP port (1-65535, or 0 for any free port)");
        foreach (var network in smtp.EffectiveAllowedNetworks)
        {
            if (!IpNetwork.TryParse(network, out _)) errors.Add($"Gateway:Smtp:AllowedNetworks: '{network}' is not a CIDR network (e.g. 10.0.0.0/8)");
        }
        if (string.IsNullOrWhiteSpace(smtp.ServerName)) errors.Add("Gateway:Smtp:ServerName must not be empty");
        if (smtp.MaxMessageSize is < 1024 or > int.MaxValue) errors.Add($"Gateway:Smtp:MaxMessageSize must be between 1024 and {int.MaxValue} bytes");
        if (smtp.MaxRecipients < 1) errors.Add("Gateway:Smtp:MaxRecipients must be at least 1");
        CheckTimer(errors, "Gateway:Smtp:SessionTimeout", smtp.SessionTimeout);
        CheckTimer(errors, "Gateway:Smtp:CommandTimeout", smtp.CommandTimeout);
        CheckTimer(errors, "Gateway:Smtp:DataTimeout", smtp.DataTimeout);
        if (smtp.MaxErrors < 1) errors.Add("Gateway:Smtp:MaxErrors must be at least 1");
        if (smtp.MaxConnectionsPerClient < 1) errors.Add("Gateway:Smtp:MaxConnectionsPerClient must be at least 1");
        if (smtp.MaxConnections < 1) errors.Add("Gateway:Smtp:MaxConnections must be at least 1");
        if (!Enum.IsDefined(smtp.BareNewline)) errors.Add("Gateway:Smtp:BareNewline must be Reject or Normalize");
        if (smtp.MaxHeaderSize < 1024) errors.Add("Gateway:Smtp:MaxHeaderSize must be at least 1024 bytes");
        if (smtp.MaxHops < 1) errors.Add("Gateway:Smtp:MaxHops must be at least 1");
        if (smtp.MaxLoopMarkers < 0) errors.Add("Gateway:Smtp:MaxLoopMarkers must not be negative");
        foreach (var domain in smtp.SenderDomains ?? [])
        {
            if (string.IsNullOrWhiteSpace(domain) || domain.Contains('@')) errors.Add($"Gateway:Smtp:SenderDomains: '{domain}' is not a domain (e.g. example.com)");
        }
        foreach (var (sender, i) in (smtp.AllowedSenders ?? []).Select((s, i) => (s, i)))
        {
            if (string.IsNullOrWhiteSpace(sender)) errors.Add("Gateway:Smtp:AllowedSenders: an entry is empty");
            else if (sender.LastIndexOf('*') > (sender.StartsWith("*@", StringComparison.Ordinal) ? 0 : -1))
                errors.Add($"Gateway:Smtp:AllowedSenders:{i}: '{sender}' would match nobody: write an address, a domain (example.com) or *@example.com");
        }
        if (!string.IsNullOrEmpty(smtp.Tls.CertificatePath) && !File.Exists(smtp.Tls.CertificatePath))
            errors.Add($"Gateway:Smtp:Tls:CertificatePath: file '{Absolute(smtp.Tls.CertificatePath)}' does not exist");
        if (!string.IsNullOrEmpty(smtp.Tls.KeyPath) && !File.Exists(smtp.Tls.KeyPath))
            errors.Add($"Gateway:Smtp:Tls:KeyPath: file '{Absolute(smtp.Tls.KeyPath)}' does not exist");
        CheckAuth(errors, smtp);

        var relay = options.Relay;
        if (!string.IsNullOrWhiteSpace(relay.Host)) CheckPort(errors, "Gateway:Relay:Port", relay.Port);
        else if (string.IsNullOrWhiteSpace(relay.Outbox)) errors.Add("Gateway:Relay:Outbox must be set when Gateway:Relay:Host is empty");
        if (string.IsNullOrEmpty(relay.Username) != string.IsNullOrEmpty(relay.Password))
            errors.Add("Gateway:Relay:Username and Gateway:Relay:Password must be set together");
        if (!Enum.IsDefined(relay.TlsMode)) errors.Add("Gateway:Relay:TlsMode must be None, Opportunistic or Required");
        else if (!string.IsNullOrEmpty(relay.Username) && relay.TlsMode == RelayTlsMode.Opportunistic)
            errors.Add("Gateway:Relay:Username needs Gateway:Relay:TlsMode Required (Opportunistic does not verify the upstream's certificate, so the password would go to whoever answers), or None on a network you trust");
        CheckTimer(errors, "Gateway:Relay:Timeout", relay.Timeout);
        CheckTimer(errors, "Gateway:Relay:IdleTimeout", relay.IdleTimeout);
        if (relay.MaxConnections is < 1 or > 1000) errors.Add("Gateway:Relay:MaxConnections must be between 1 and 1000");
        if (relay.MaxMessagesPerConnection < 1) errors.Add("Gateway:Relay:MaxMessagesPerConnection must be at least 1");
        for (var i = 0; i < relay.FallbackHosts.Length; i++)
        {
            if (!Relay.UpstreamHost.TryParse(relay.FallbackHosts[i], relay.Port, out _))
                errors.Add($"Gateway:Relay:FallbackHosts:{i}: '{relay.FallbackHosts[i]}' is not a host or host:port");
        }
        if (relay.FallbackHosts.Length > 0 && string.IsNullOrWhiteSpace(relay.Host))
            errors.Add("Gateway:Relay:FallbackHosts needs Gateway:Relay:Host (the first upstream to try)");
        if (!string.IsNullOrEmpty(relay.CaCertificatePath) && !File.Exists(relay.CaCertificatePath))
            errors.Add($"Gateway:Relay:CaCertificatePath: file '{Absolute(relay.CaCertificatePath)}' does not exist");

        var spool = options.Spool;
        if (string.IsNullOrWhiteSpace(spool.Path)) errors.Add("Gateway:Spool:Path must not be empty");
        if (spool.Workers is < 1 or > 256) errors.Add("Gateway:Spool:Workers must be between 1 and 256");
        if (spool.MaxConcurrentTransforms is < 1 or > 256) errors.Add("Gateway:Spool:MaxConcurrentTransforms must be between 1 and 256");
        CheckTimer(errors, "Gateway:Spool:FirstRetry", spool.FirstRetry);
        CheckTimer(errors, "Gateway:Spool:MaxRetryInterval", spool.MaxRetryInterval);
        CheckPositive(errors, "Gateway:Spool:MaximumLifetime", spool.MaximumLifetime);
        if (spool.MaxProcessingFailures < 1) errors.Add("Gateway:Spool:MaxProcessingFailures must be at least 1");
        if (spool.HeldRecheckInterval < TimeSpan.Zero) errors.Add("Gateway:Spool:HeldRecheckInterval must not be negative (00:00:00 turns it off)");
        else if (spool.HeldRecheckInterval > LongestTimer) errors.Add(TooLong("Gateway:Spool:HeldRecheckInterval"));
        CheckTimer(errors, "Gateway:Spool:ShutdownTimeout", spool.ShutdownTimeout);
        if (spool.BounceSizeLimit < 0) errors.Add("Gateway:Spool:BounceSizeLimit must be 0 (headers only) or a number of bytes");
        if (spool.MinimumFreeSpace < 0) errors.Add("Gateway:Spool:MinimumFreeSpace must be 0 (off) or a number of bytes");
        if (spool.DelayWarningAfter is { } warning)
        {
            CheckPositive(errors, "Gateway:Spool:DelayWarningAfter", warning);
            if (warning >= spool.MaximumLifetime) errors.Add("Gateway:Spool:DelayWarningAfter must be shorter than Gateway:Spool:MaximumLifetime");
        }

        if (string.IsNullOrWhiteSpace(options.Audit.Path)) errors.Add("Gateway:Audit:Path must not be empty");
        CheckTimer(errors, "Gateway:Policy:ReloadCheckInterval", options.Policy.ReloadCheckInterval);
        CheckTimer(errors, "Gateway:Certificates:ReloadCheckInterval", options.Certificates.ReloadCheckInterval);
        if (options.Certificates.MaxEncryptionCertificates is < 1 or > 16)
            errors.Add("Gateway:Certificates:MaxEncryptionCertificates must be between 1 (the newest certificate only) and 16");
        if (!File.Exists(options.Policy.Path)) errors.Add($"Gateway:Policy:Path: file '{Absolute(options.Policy.Path)}' does not exist");

        var certificates = options.Certificates;
        if (!Directory.Exists(certificates.Path)) errors.Add($"Gateway:Certificates:Path: folder '{Absolute(certificates.Path)}' does not exist");
        foreach (var anchor in certificates.EffectiveTrustAnchors)
        {
            if (!File.Exists(anchor) && !Directory.Exists(anchor)) errors.Add($"Gateway:Certificates:TrustAnchors: '{Absolute(anchor)}' does not exist");
        }
        if (certificates.Pkcs12PasswordFile is { Length: > 0 } file && !File.Exists(file))
            errors.Add($"Gateway:Certificates:Pkcs12PasswordFile: file '{Absolute(file)}' does not exist");

        CertificateSourcesValidation.Check(certificates, errors);
        CheckTimer(errors, "Gateway:Certificates:Revocation:Timeout", certificates.Revocation.Timeout);
        if (!Enum.IsDefined(certificates.Revocation.Mode)) errors.Add("Gateway:Certificates:Revocation:Mode must be Off, SoftFail or HardFail");
        if (!Enum.IsDefined(options.Ca.KeyType)) errors.Add("Gateway:Ca:KeyType must be Rsa3072 or EcdsaP256");
        CaSettingsValidation.Check(options, errors);
        errors.AddRange(SecretFilePermissions.Problems(options));

        CheckHttpPrefix(errors, "Gateway:Metrics:HttpPrefix", options.Metrics.HttpPrefix, "http://127.0.0.1:9310/ or http://[::1]:9310/");
        foreach (var (host, i) in (options.Metrics.AllowedHosts ?? []).Select((h, i) => (h, i)))
            if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
                errors.Add($"Gateway:Metrics:AllowedHosts:{i}: '{host}' is not a host name, without port (e.g. gateway.example.com)");

        var harvest = options.Harvest;
        for (var i = 0; i < (harvest.Domains?.Length ?? 0); i++)
        {
            if (!Harvest.RecipientDomains.IsDomainPattern(harvest.Domains![i] ?? ""))
                errors.Add($"Gateway:Harvest:Domains:{i}: '{harvest.Domains[i]}' is not a domain or *.domain (e.g. example.com, *.example.com)");
        }
        if (harvest.Enabled)
        {
            if (!IPAddress.TryParse(harvest.Address, out _)) errors.Add($"Gateway:Harvest:Address: '{harvest.Address}' is not an IP address");
            if (harvest.Port is < 0 or > 65535) errors.Add($"Gateway:Harvest:Port: {harvest.Port} is not a TCP port");
            if (string.IsNullOrWhiteSpace(harvest.UpstreamHost)) errors.Add("Gateway:Harvest:UpstreamHost must name the internal MTA that receives inbound mail after harvesting");
            CheckPort(errors, "Gateway:Harvest:UpstreamPort", harvest.UpstreamPort);
            CheckTimer(errors, "Gateway:Harvest:Timeout", harvest.Timeout);
            foreach (var network in harvest.EffectiveAllowedNetworks)
                if (!IpNetwork.TryParse(network, out _)) errors.Add($"Gateway:Harvest:AllowedNetworks: '{network}' is not a CIDR network");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckAuth(List<string> errors, SmtpOptions smtp)
    {
        var auth = smtp.Auth;
        foreach (var network in auth.Networks ?? [])
        {
            if (!IpNetwork.TryParse(network, out _)) errors.Add($"Gateway:Smtp:Auth:Networks: '{network}' is not a CIDR network (e.g. 192.0.2.0/24)");
        }
        if (!auth.Enabled) return;
        // Passwords only inside TLS: without a server certificate AUTH could never be offered.
        if (string.IsNullOrEmpty(smtp.Tls.CertificatePath))
            errors.Add("Gateway:Smtp:Auth:UsersFile needs Gateway:Smtp:Tls:CertificatePath: AUTH is offered only over TLS");
        if (!File.Exists(auth.UsersFile))
        {
            errors.Add($"Gateway:Smtp:Auth:UsersFile: file '{Absolute(auth.UsersFile!)}' does not exist");
            return;
        }
        var (users, problems) = Gateway.Smtp.SmtpUsers.Load(auth.UsersFile!);
        errors.AddRange(problems.Select(p => "Gateway:Smtp:Auth:UsersFile: " + p));
        if (problems.Count == 0 && users.Count == 0) errors.Add($"Gateway:Smtp:Auth:UsersFile: '{auth.UsersFile}' lists no users");
    }

    /// <summary>
    /// A path as the process resolves it: 'policy.json' names a file in the folder Gateway was
    /// started from, which the admin reading the error may not know.
    /// </summary>
    internal static string Absolute(string path)
    {
        try
        {
            return Path.GetFullPath(path);
        }
        catch (ArgumentException)
        {
            return path;
        }
    }

    private static void CheckPort(List<string> errors, string key, int port)
    {
        if (port is < 1 or > 65535) errors.Add($"{key}: {port} is not a TCP port (1-65535)");
    }

    /// <summary>
    /// An HTTP endpoint's prefix, by the rule its server reads it with (<see cref="HttpPrefix.Parse"/>):
    /// one that starts is one the server can listen at, short of a port in use or a name without an address.
    /// </summary>
    internal static void CheckHttpPrefix(List<string> errors, string key, string? prefix, string example)
    {
        if (string.IsNullOrEmpty(prefix)) return;
        try
        {
            HttpPrefix.Parse(prefix);
        }
        catch (FormatException e)
        {
            errors.Add($"{key}: {e.Message} (e.g. {example})");
        }
    }

    private static void CheckPositive(List<string> errors, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero) errors.Add($"{key} must be a positive duration (e.g. 00:05:00)");
    }

    /// <summary>
    /// The longest wait a .NET timer takes (2^32 - 2 ms, about 49.7 days). Task.Delay, CancelAfter
    /// and WaitAsync throw past it, and a service that waits in a loop would then spin on the error.
    /// </summary>
    internal static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    internal static string TooLong(string key) => $"{key} must be at most {LongestTimer:d\\.hh\\:mm\\:ss} (the longest a timer waits)";

    /// <summary>A duration something waits for: positive, and no longer than a timer can wait.</summary>
    private static void CheckTimer(List<string> errors, string key, TimeSpan value)
    {
        CheckPositive(errors, key, value);
        if (value > LongestTimer) errors.Add(TooLong(key));
    }
}
