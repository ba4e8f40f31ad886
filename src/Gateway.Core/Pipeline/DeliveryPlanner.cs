using Gateway.Certificates;
using Gateway.Outcomes;
using Gateway.Policy;

namespace Gateway.Pipeline;

/// <summary>
/// Combines the policy's answer per recipient with the certificates found into treatments, and
/// groups recipients with the same treatment. Pure: the lookups happen before, the relaying after.
/// </summary>
public static class DeliveryPlanner
{
    /// <param name="lookupGraceOver">
    /// True once the message has waited Gateway:Certificates:LookupFailureGrace: a certificate
    /// source that still cannot be asked then counts as "no certificate", so "ifPossible" goes on
    /// without encryption and "required" follows the missing-certificate action. Before that the
    /// recipient is deferred: the source that did not answer might hold the certificate. The same
    /// holds for the sender's signing identity (e.g. a CA that cannot read its LDAP group to know
    /// whether the sender may be enrolled): deferred while signing is wanted, then the rule's answer.
    /// </param>
    public static PlannedRecipient Decide(RecipientPolicy policy, CertificateChoice? signer, CertificateChoice? recipient, string sender, bool lookupGraceOver = false)
    {
        var rule = policy.Trigger is null ? $"rule '{policy.RuleName}'" : $"rule '{policy.RuleName}' with {policy.Trigger}";
        var signerFound = signer?.Found == true;
        var certificateFound = recipient?.Found == true;

        if (policy.Encrypt != EncryptMode.Never && recipient?.Unavailable == true && !lookupGraceOver)
            return new PlannedRecipient(policy.Recipient, policy, recipient, TreatmentKind.Defer, false, false,
                $"rule '{policy.RuleName}': certificate lookup deferred: {recipient.TemporaryFailure}", FailureKind.CertificateDirectoryUnavailable);

        if (policy.Encrypt == EncryptMode.Required && !certificateFound)
            return Missing(policy, recipient, FailureKind.EncryptionCertificateMissing, $"encryption required by {rule} but {recipient?.Reason ?? "no certificate was looked up"}"
                + (recipient?.Unavailable == true ? " (certificate sources unavailable past the lookup grace)" : ""));
        // After the encryption answer: a recipient whose certificate is known to be missing is refused
        // or held at once, not after waiting for the sender's identity.
        if (policy.Sign != SignMode.Never && signer?.Unavailable == true && !lookupGraceOver)
            return new PlannedRecipient(policy.Recipient, policy, recipient, TreatmentKind.Defer, false, false,
                $"rule '{policy.RuleName}': signing identity lookup deferred: {signer.TemporaryFailure}", FailureKind.CertificateDirectoryUnavailable);
        // Nobody's key signs for the null sender: a sign requirement cannot apply to a bounce (ours
        // or one the company's MTA relays), which would otherwise be refused, and a failed bounce is
        // dropped, never reported. Encryption rules still apply to it.
        if (policy.Sign == SignMode.Always && !signerFound && sender.Length > 0)
            return Missing(policy, recipient, FailureKind.SigningIdentityMissing, $"signing required by {rule} but {signer?.Reason ?? $"no signing identity for {sender}"}"
                + (signer?.Unavailable == true ? " (unavailable past the lookup grace)" : ""));

        var sign = policy.Sign != SignMode.Never && signerFound;
        var encrypt = policy.Encrypt != EncryptMode.Never && certificateFound;
        var reason = $"{rule}: " + (encrypt, sign) switch
        {
            (true, _) => $"certificate {recipient!.Selected!.Certificate.Thumbprint} ({recipient.Reason})",
            (false, _) when policy.Encrypt == EncryptMode.IfPossible && recipient?.Unavailable == true =>
                $"sent without encryption: certificate sources unavailable past the lookup grace: {recipient.Reason}",
            (false, _) when policy.Encrypt == EncryptMode.IfPossible => $"sent without encryption: {recipient?.Reason}",
            _ => "encryption not wanted",
        } + (policy.Sign == SignMode.Always && sender.Length == 0 ? "; not signed: signing does not apply to the null sender" : "");
        return new PlannedRecipient(policy.Recipient, policy, recipient, TreatmentKind.Deliver, sign, encrypt, reason);
    }

    /// <param name="named">
    /// The recipients the To and Cc fields name (<see cref="MessageFacts.NamedRecipients"/>); null
    /// when unknown, and then nobody gets a copy of their own for being unnamed.
    /// </param>
    public static DeliveryPlan Plan(string revision, CertificateChoice? signer, IReadOnlyList<PlannedRecipient> recipients, IReadOnlySet<string>? named = null)
    {
        var groups = recipients
            .Where(r => r.Kind == TreatmentKind.Deliver)
            // AuthenticatedEncryption has done its work once the cipher is chosen: rules differing only there share a copy.
            // An envelope lists a key of every recipient it is encrypted to (issuer and serial number,
            // or key identifier): a Bcc recipient in a shared one would be shown to the others, so each
            // recipient the header does not name gets an encrypted copy of their own.
            .GroupBy(r => (r.Sign, r.Encrypt, Crypto: (r.Encrypt || r.Sign ? r.Crypto : CryptoSettings.Default) with { AuthenticatedEncryption = AuthenticatedEncryption.WhenAdvertised },
                Unnamed: r.Encrypt && named is not null && !named.Contains(Mail.MailAddress.LookupKey(r.Address)) ? r.Address : null))
            .Select((g, i) => new DeliveryGroup(i + 1, g.Key.Sign, g.Key.Encrypt, g.Key.Crypto, g.ToList()))
            .ToList();
        return new DeliveryPlan(
            revision,
            signer,
            groups,
            recipients.Where(r => r.Kind == TreatmentKind.Refuse).ToList(),
            recipients.Where(r => r.Kind == TreatmentKind.Hold).ToList(),
            recipients.Where(r => r.Kind == TreatmentKind.Defer).ToList());
    }

    private static PlannedRecipient Missing(RecipientPolicy policy, CertificateChoice? recipient, FailureKind failure, string reason) =>
        new(policy.Recipient, policy, recipient,
            policy.MissingCertificate == MissingCertificateAction.Hold ? TreatmentKind.Hold : TreatmentKind.Refuse,
            false, false, reason, failure);
}
