namespace Gateway.Outcomes;

/// <summary>
/// The one table from failure kind to SMTP reply and what happens after the queue. Our own
/// faults are always temporary (451/452), never a 5xx the client would bounce for us; unknown
/// errors are temporary too.
/// </summary>
public static class Failures
{
    public static SmtpReply Reply(FailureKind kind, string? detail = null) => kind switch
    {
        FailureKind.ClientNotAllowed => new(554, "5.7.1", detail ?? "Relay access denied: client network is not allowed"),
        FailureKind.MessageTooLarge => new(552, "5.3.4", detail ?? "Message size exceeds fixed limit"),
        FailureKind.TooManyRecipients => new(452, "4.5.3", detail ?? "Too many recipients"),
        FailureKind.SpoolUnavailable => new(451, "4.3.0", detail ?? "Temporary local problem, please try again later"),
        FailureKind.SpoolFull => new(452, "4.3.1", detail ?? "Insufficient system storage, please try again later"),
        FailureKind.EncryptionCertificateMissing => new(550, "5.7.10", detail ?? "Encryption required by policy but no valid certificate for this recipient"),
        FailureKind.SigningIdentityMissing => new(550, "5.7.1", detail ?? "Signing required by policy but no valid signing certificate for the sender"),
        FailureKind.CertificateDirectoryUnavailable => new(451, "4.4.3", detail ?? "certificate directory unavailable"),
        FailureKind.UpstreamTemporary => new(451, "4.4.1", detail ?? "Upstream temporarily unavailable"),
        FailureKind.UpstreamPermanent => new(550, "5.0.0", detail ?? "Upstream refused the message"),
        FailureKind.AuthenticationRequired => new(530, "5.7.0", detail ?? "Authentication required: client network is not allowed to relay"),
        FailureKind.SenderNotAllowed => new(553, "5.7.1", detail ?? "Sender address rejected: domain not allowed here"),
        // Postfix's wording for reject_sender_login_mismatch, without the user's name.
        FailureKind.SenderAddressInvalid => new(553, "5.1.7", detail ?? "Sender address rejected: the local part is empty"),
        FailureKind.RecipientAddressInvalid => new(553, "5.1.3", detail ?? "Recipient address rejected: the local part is empty"),
        FailureKind.SenderNotOwned => new(553, "5.7.1", detail ?? "Sender address rejected: not owned by the authenticated user"),
        // Postfix 3.9's wording for smtpd_forbid_bare_newline = reject.
        FailureKind.BareLineFeed => new(550, "5.5.2", detail ?? "Error: bare <LF> received"),
        FailureKind.BareCarriageReturn => new(550, "5.5.2", detail ?? "Error: bare <CR> received"),
        FailureKind.EmptyMessage => new(554, "5.6.0", detail ?? "Message is empty"),
        FailureKind.HeaderTooLarge => new(552, "5.3.4", detail ?? "Message header size exceeds limit"),
        FailureKind.TooManyHops => new(554, "5.4.6", detail ?? "Too many hops: routing loop detected"),
        FailureKind.MailLoop => new(554, "5.4.6", detail ?? "Mail loop detected: message already passed this gateway"),
        // RFC 5321 §4.1.1.11 and RFC 3461 §5.1; Postfix's wording.
        FailureKind.ParameterInvalid => new(501, "5.5.4", detail ?? "Error: bad parameter syntax"),
        FailureKind.ParameterUnsupported => new(555, "5.5.4", detail ?? "Unsupported option"),
        FailureKind.RelayNotPermitted => new(550, "5.7.1", detail ?? "Relay access denied"),
        _ => new(451, "4.3.0", detail ?? "Temporary local problem, please try again later"),
    };

    public static AfterQueueAction Action(FailureKind kind) => kind switch
    {
        FailureKind.ClientNotAllowed or FailureKind.MessageTooLarge or FailureKind.TooManyRecipients
            or FailureKind.SpoolUnavailable or FailureKind.SpoolFull or FailureKind.AuthenticationRequired or FailureKind.SenderNotAllowed or FailureKind.SenderNotOwned
            or FailureKind.SenderAddressInvalid or FailureKind.RecipientAddressInvalid
            or FailureKind.BareLineFeed or FailureKind.BareCarriageReturn or FailureKind.EmptyMessage or FailureKind.HeaderTooLarge
            or FailureKind.TooManyHops or FailureKind.MailLoop or FailureKind.ParameterInvalid or FailureKind.ParameterUnsupported
            or FailureKind.RelayNotPermitted => AfterQueueAction.None,
        FailureKind.EncryptionCertificateMissing or FailureKind.SigningIdentityMissing or FailureKind.UpstreamPermanent => AfterQueueAction.Fail,
        _ => AfterQueueAction.Defer,
    };
}
