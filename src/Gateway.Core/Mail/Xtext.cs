using System.Text;

namespace Gateway.Mail;

/// <summary>RFC 3461 §4 xtext, the encoding of ENVID and ORCPT: "+XX" is the octet XX in hex.</summary>
public static class Xtext
{
    /// <summary>RFC 3461 §4.4: an ENVID is at most 100 characters.</summary>
    public const int MaxEnvelopeId = 100;

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

    /// <summary>ASCII text as xtext: "+", "=" and what is not printable as "+XX".</summary>
    public static string Encode(string ascii)
    {
        if (ascii.All(c => c is > ' ' and <= '~' and not '+' and not '=')) return ascii;
        var encoded = new StringBuilder(ascii.Length + 8);
        foreach (var c in ascii)
        {
            if (c is > ' ' and <= '~' and not '+' and not '=') encoded.Append(c);
            else encoded.Append('+').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return encoded.ToString();
    }

    /// <summary>
    /// RFC 3461 xtext whose value is printable ASCII: "!" to "~" but "+" and "=", or "+" and two
    /// upper-case hex digits that stand for a printable ASCII octet. What ENVID and an rfc822 ORCPT must be.
    /// </summary>
    public static bool IsPrintableXtext(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '+')
            {
                if (i + 2 >= text.Length || !IsUpperHex(text[i + 1]) || !IsUpperHex(text[i + 2])) return false;
                var octet = Convert.ToByte(text.Substring(i + 1, 2), 16);
                if (octet is < 0x20 or > 0x7E) return false;
                i += 2;
            }
            else if (c is < '!' or > '~' or '=') return false;
        }
        return true;
    }

    /// <summary>A hex digit as xtext writes them: 0–9 and upper-case A–F.</summary>
    public static bool IsUpperHex(char c) => char.IsAsciiDigit(c) || c is >= 'A' and <= 'F';

    /// <summary>Printable US-ASCII, space included: what an ENVID or an rfc822 ORCPT may decode to (RFC 3461 §4.2, §4.4).</summary>
    public static bool IsPrintableAscii(string text) => text.All(c => c is >= ' ' and <= '~');
}
