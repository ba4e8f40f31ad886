namespace Gateway.Configuration;

/// <summary>The "Gateway" section of appsettings.json. Every key is listed in the README.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    public SmtpOptions Smtp { get; set; } = new();
    public RelayOptions Relay { get; set; } = new();
    public SpoolOptions Spool { get; set; } = new();
    public AuditOptions Audit { get; set; } = new();
    public PolicyOptions Policy { get; set; } = new();
    public CertificatesOptions Certificates { get; set; } = new();
    public CaOptions Ca { get; set; } = new();
    public HarvestOptions Harvest { get; set; } = new();
    public MetricsOptions Metrics { get; set; } = new();
}
