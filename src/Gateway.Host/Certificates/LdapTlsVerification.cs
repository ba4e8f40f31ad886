using System.Runtime.InteropServices;

namespace Gateway.Certificates;

/// <summary>
/// OpenLDAP's client library takes TLS_REQCERT from its configuration (/etc/ldap/ldap.conf, the
/// file LDAPCONF names, ~/.ldaprc, ./ldaprc, LDAPRC) and from LDAPTLS_REQCERT, for every
/// connection: "never", "allow" or "try" would let a directory's TLS certificate go unverified, or
/// its host name unchecked. Rather than read those files as libldap might, Gateway asks libldap
/// for the value it settled on; with LDAP over TLS configured it refuses to start on a weak one.
/// </summary>
public static class LdapTlsVerification
{
    private const int RequireCertificateOption = 0x6006; // LDAP_OPT_X_TLS_REQUIRE_CERT

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int GetOption(IntPtr handle, int option, out int value);

    /// <summary>What weakens verification in this process, in words; null when nothing does (or there is no libldap to ask).</summary>
    public static string? Weakened() => OperatingSystem.IsWindows() ? null : Describe(EffectiveRequireCertificate());

    /// <summary>libldap's LDAP_OPT_X_TLS_* level in words when it is weak: 0 never, 3 allow, 4 try (1 hard and 2 demand verify).</summary>
    public static string? Describe(int? level) => level switch
    {
        0 => "libldap's TLS_REQCERT is never",
        3 => "libldap's TLS_REQCERT is allow",
        4 => "libldap's TLS_REQCERT is try",
        _ => null,
    };

    private static int? EffectiveRequireCertificate()
    {
        // A null handle asks for the global options, read from the configuration on first use.
        var get = OpenLdapLibrary.Function<GetOption>("ldap_get_option");
        return get is not null && get(IntPtr.Zero, RequireCertificateOption, out var level) == 0 ? level : null;
    }
}
