using Gateway.Audit;
using Gateway.Certificates;
using Microsoft.Extensions.Logging;

namespace Gateway.Ca;

/// <summary>
/// Gives every eligible internal sender a signing identity without an admin: when the local
/// store has none, the issuer's newest unrevoked certificate is used, and when there is none or
/// it expires within Ca:RenewBeforeDays, a new one is issued on the spot, so the mail that
/// triggered it leaves signed. An identity the admin put in the local store always wins.
/// During a directory outage eligibility comes from the member list last read, up to
/// Ca:EligibleGroup:StaleMembershipMaxAge old (see SenderEligibility). When it cannot be learned
/// at all, nothing is issued and the CA's certificates are not used either (a member removed long
/// ago must not sign again because the group cannot be read): the sender goes on without an
/// identity, exactly as one who is not eligible (the policy decides: unsigned, or held or refused
/// where signing is required), and the audit says why.
/// </summary>
public sealed partial class EnrollingCertificateDirectory(
    ICertificateDirectory inner, CertificateEnrolment enrolment, SenderEligibility eligibility, IAuditLog audit, ILogger<EnrollingCertificateDirectory> logger)
    : ICertificateDirectory
{
    public async ValueTask<CertificateChoice> FindSignerAsync(string address, CancellationToken cancellationToken)
    {
        var local = await inner.FindSignerAsync(address, cancellationToken);
        // An identity the admin put in the store whose revocation status cannot be learned now makes the
        // sender wait (HardFail), never replaced by an enrolled one.
        if (local.Found || local.Unavailable || address.Length == 0) return local;

        var eligible = await eligibility.CheckAsync(address, cancellationToken);
        switch (eligible.Status)
        {
            case EligibilityStatus.Eligible when !Gateway.Ca.SmimeCertificateProfile.CanName(address, out var unnameable):
                // Declined, not failed: the sender goes on without an identity and the policy decides
                // (unsigned for ifPossible), instead of every attempt throwing until the mail is held.
                LogNotEnrolled(address, unnameable!);
                await audit.WriteAsync(new AuditEvent("enrolment-skipped") { Sender = address, Reason = unnameable, Issuer = enrolment.Issuer.Name }, cancellationToken);
                return local with { Reason = $"{local.Reason}; not enrolled: {unnameable}" };
            case EligibilityStatus.Eligible:
                return (await enrolment.EnsureAsync(address, $"first mail of an eligible sender without a signing certificate ({eligible.Reason})", cancellationToken)).Choice;
            case EligibilityStatus.Unknown:
                LogNotEnrolled(address, eligible.Reason);
                await audit.WriteAsync(new AuditEvent("enrolment-skipped") { Sender = address, Reason = eligible.Reason, Issuer = enrolment.Issuer.Name }, cancellationToken);
                // A temporary failure: the choice is not cached, so the next mail asks the directory again.
                return local with { Reason = $"{local.Reason}; not enrolled: {eligible.Reason}", TemporaryFailure = eligible.Reason };
            default:
                return local;
        }
    }

    public ValueTask<CertificateChoice> FindRecipientAsync(string address, CancellationToken cancellationToken) =>
        inner.FindRecipientAsync(address, cancellationToken);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "No certificate enrolment for {Address}: {Reason}")]
    private partial void LogNotEnrolled(string address, string reason);
}
