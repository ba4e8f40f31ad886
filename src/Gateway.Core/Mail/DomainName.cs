using System.Globalization;

namespace Gateway.Mail;

/// <summary>
/// A domain in its ASCII form (IDNA A-labels, lower case), so "bücher.example" and
/// "xn--bcher-kva.example" compare equal: clients write either (an SMTPUTF8 client the Unicode
/// form, others the xn-- form), and a policy written one way must hold for mail written the other.
/// </summary>
public static class DomainName
{
    private static readonly IdnMapping Idn = new() { AllowUnassigned = true, UseStd3AsciiRules = false };

    public static string Ascii(string domain)
    {
        if (domain.Length == 0 || domain.All(char.IsAscii)) return domain.ToLowerInvariant();
        try
        {
            return Idn.GetAscii(domain.ToLowerInvariant()).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return domain.ToLowerInvariant(); // not a valid IDN: compared as written
        }
    }

    /// <summary>The Unicode form (U-labels, lower case), or the domain lower-cased as written when it is not a valid IDN.</summary>
    public static string Unicode(string domain)
    {
        try
        {
            return Idn.GetUnicode(Ascii(domain)).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return domain.ToLowerInvariant();
        }
    }
}
