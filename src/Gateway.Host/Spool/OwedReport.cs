namespace Gateway.Spool;

/// <summary>
/// A report the sender is owed for one recipient and has not been queued yet: "failed" (RFC 3464)
/// or "relayed" (NOTIFY=SUCCESS to an upstream without DSN). It is recorded with the recipient's
/// new state, in the same save, so a stop or crash between the recipient's failure and the queueing
/// of the report (the attempt's other copies may take minutes) cannot lose it: the next attempt
/// sends it. <see cref="MayReturnContent"/> as in <see cref="Bounces.ReportedRecipient"/>;
/// <see cref="Since"/> bounds how long one that cannot be queued is tried (Spool:MaximumLifetime).
/// "delayed" is the notice that a copy is held until a certificate is known, <see cref="Until"/> when it is returned.
/// </summary>
public sealed record OwedReport(string Action, string Reply, string Explanation, DateTimeOffset Since, bool MayReturnContent = false, DateTimeOffset? Until = null);
