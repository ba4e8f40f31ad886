using Gateway.Audit;
using Gateway.Ca;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Tests.Cli;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Ca;

/// <summary>
/// A world with certificate automation on: the settings the real <c>gateway ca</c> commands read
/// (written as appsettings.json on demand) and the same CA, eligibility and enrolment built in
/// process on a fake clock, so tests can drive renewals.
/// </summary>
public sealed class CaFixture : IDisposable
{
    public const string CaPassword = "ca-test-password";

    public CaFixture()
    {
        Settings["Gateway:Ca:Enabled"] = "true";
        Settings["Gateway:Ca:Path"] = CaPath;
        Settings["Gateway:Ca:Password"] = CaPassword;
    }

    public GatewayWorld World { get; } = new();
    public Dictionary<string, string?> Settings => World.Settings;
    public string Root => World.Root;
    public string CaPath => Path.Combine(World.Root, "ca");
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);
    public RecordingAudit Audit { get; } = new();

    /// <summary>The settings bound as the gateway binds them (only what the CA classes read).</summary>
    public IOptions<GatewayOptions> Options()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings).Build();
        var options = new GatewayOptions();
        configuration.GetSection(GatewayOptions.Section).Bind(options);
        return Microsoft.Extensions.Options.Options.Create(options);
    }

    public BuiltInCertificateAuthority Authority() => new(Options(), Time, Audit);

    public SenderEligibility Eligibility() => new(Options(), Time, NullLogger<SenderEligibility>.Instance);

    public EnrollingCertificateDirectory Enrolling(ICertificateIssuer issuer, SenderEligibility eligibility) =>
        new(new EmptyDirectory(), Enrolment(issuer), eligibility, Audit, NullLogger<EnrollingCertificateDirectory>.Instance);

    public CertificateEnrolment Enrolment(ICertificateIssuer issuer) => new(issuer, Options(), Time, Audit, NullLogger<CertificateEnrolment>.Instance);

    /// <summary>Runs the built gateway executable with these settings, as an admin would.</summary>
    public Task<GatewayCli.Result> CliAsync(params string[] arguments)
    {
        var config = SettingsFile.Write(Path.Combine(Root, "appsettings.json"), Settings);
        return GatewayCli.RunAsync(Root, [.. arguments, "--config", config]);
    }

    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => World.Dispose();

    public sealed class EmptyDirectory : ICertificateDirectory
    {
        private static readonly CertificateChoice None = new(null, [], "none in this test", []);
        public ValueTask<CertificateChoice> FindSignerAsync(string address, CancellationToken cancellationToken) => ValueTask.FromResult(None);
        public ValueTask<CertificateChoice> FindRecipientAsync(string address, CancellationToken cancellationToken) => ValueTask.FromResult(None);
    }

    public sealed class RecordingAudit : IAuditLog
    {
        private readonly List<AuditEvent> _events = [];

        public IReadOnlyList<AuditEvent> Events
        {
            get { lock (_events) return _events.ToList(); }
        }

        public ValueTask WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
        {
            lock (_events) _events.Add(auditEvent);
            return ValueTask.CompletedTask;
        }
    }
}
