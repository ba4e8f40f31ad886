using System.Runtime.InteropServices;

namespace Gateway.Certificates;

/// <summary>The OpenLDAP client library that .NET's LDAP client loads on Linux, for the few options .NET does not expose.</summary>
internal static class OpenLdapLibrary
{
    /// <summary>The library names .NET's LDAP client loads on Linux, newest first.</summary>
    private static readonly string[] Libraries = ["libldap.so.2", "libldap-2.6.so.0", "libldap-2.5.so.0", "libldap-2.4.so.2"];

    /// <summary>An exported function of the first library that loads; null when none does or it lacks the function.</summary>
    public static T? Function<T>(string name) where T : Delegate
    {
        if (OperatingSystem.IsWindows()) return null;
        foreach (var library in Libraries)
        {
            if (!NativeLibrary.TryLoad(library, out var handle)) continue;
            return NativeLibrary.TryGetExport(handle, name, out var export) ? Marshal.GetDelegateForFunctionPointer<T>(export) : null;
        }
        return null;
    }
}
