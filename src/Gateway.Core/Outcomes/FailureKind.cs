namespace Gateway.Outcomes;

public enum FailureKind
{
    ClientNotAllowed,
    MessageTooLarge,
    TooManyRecipients,
    SpoolUnavailable,
    SpoolFull,
    EncryptionCertificateMissing,
    SigningIdentityMissing,
    CertificateDirectoryUnavailable,
    UpstreamTemporary,
    UpstreamPermanent,
    Unexpected,
    AuthenticationRequired,
    SenderNotAllowed,
    SenderNotOwned,
    SenderAddressInvalid,
    RecipientAddressInvalid,
    BareLineFeed,
    BareCarriageReturn,
    EmptyMessage,
    HeaderTooLarge,
    TooManyHops,
    MailLoop,
    ParameterInvalid,
    ParameterUnsupported,
}
