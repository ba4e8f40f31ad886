using System.Runtime.InteropServices;

namespace Gateway.Certificates;

/// <summary>
/// .NET's LDAP client on Linux binds with OpenLDAP's synchronous bind, which waits for the
/// server's answer with no limit of .NET's (dotnet/runtime#62075): a directory that took the
/// connection and never answered held the bind's thread for good (over five minutes, until the
/// measurement gave up). OpenLDAP bounds its synchronous calls by LDAP_OPT_TIMEOUT, and a new
/// handle copies that from the library's global options when it is made; so each connection is
/// made with the global option set to its directory's Timeout, one at a time. The bind then
/// fails with LDAP error 85 (timeout) after Timeout, and its thread is free again. The TCP
/// connect has an option of its own, LDAP_OPT_NETWORK_TIMEOUT: without it a connect that a
/// firewall drops waits for the kernel's retries (minutes); with it, it fails with 81 after
/// Timeout. An ldaps:// handshake is bounded by neither in libldap 2.5, which does TLS blocking:
/// a directory that takes the connection and never answers holds its thread until it closes, and
/// <see cref="BlockingCallSlots"/> keeps those to a few per directory.
/// </summary>
internal static class LdapCallTimeout
{
    private const int TimeoutOption = 0x5002; // LDAP_OPT_TIMEOUT
    private const int NetworkTimeoutOption = 0x5005; // LDAP_OPT_NETWORK_TIMEOUT

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeValue
    {
        public nint Seconds;
        public nint Microseconds;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int SetOption(IntPtr handle, int option, ref TimeValue value);

    private static readonly SetOption? Set = OpenLdapLibrary.Function<SetOption>("ldap_set_option");
    private static readonly Lock Gate = new();

    /// <summary>Makes a connection whose connect and synchronous calls (the bind) give up after <paramref name="timeout"/>.</summary>
    public static T Create<T>(TimeSpan timeout, Func<T> create)
    {
        if (Set is null) return create();
        var value = new TimeValue { Seconds = (nint)timeout.TotalSeconds, Microseconds = timeout.Microseconds + timeout.Milliseconds * 1000 };
        lock (Gate)
        {
            // A null handle sets the global options, which the handle made next copies.
            Set(IntPtr.Zero, TimeoutOption, ref value);
            Set(IntPtr.Zero, NetworkTimeoutOption, ref value);
            return create();
        }
    }
}
