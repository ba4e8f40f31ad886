using System.Security.Cryptography.X509Certificates;

namespace Gateway.Ca;

public sealed record RevocationRecord(string Serial, string Address, DateTimeOffset RevokedAt, X509RevocationReason Reason);
