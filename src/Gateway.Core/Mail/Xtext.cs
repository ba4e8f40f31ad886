using System.Text;

namespace Gateway.Mail;

/// <summary>RFC 3461 §4 xtext, the encoding of ENVID and ORCPT: "+XX" is the octet XX in hex.</summary>
public static class Xtext
{
    /// <summary>The decoded text; its octets read as UTF-8. A "+" not followed by two hex digits stays as it is.</summary>
    public static string Decode(string xtext)
    {
        if (!xtext.Contains('+')) return xtext;
        var bytes = new List<byte>(xtext.Length);
        for (var i = 0; i < xtext.Length; i++)
        {
            if (xtext[i] == '+' && i + 2 < xtext.Length && byte.TryParse(xtext.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(xtext[i].ToString()));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Printable US-ASCII, space included: what an ENVID or an rfc822 ORCPT may decode to (RFC 3461 §4.2, §4.4).</summary>
    public static bool IsPrintableAscii(string text) => text.All(c => c is >= ' ' and <= '~');
}
