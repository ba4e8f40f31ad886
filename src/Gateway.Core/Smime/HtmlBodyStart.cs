namespace Gateway.Smime;

/// <summary>
/// Where the visible content of an HTML document starts: just after its body start tag, found as a
/// browser would, not by searching for "&lt;body": a tag written inside a comment, a script, a
/// style, a title or an attribute value is no tag. Without a body tag, after the head's end tag,
/// else after the html start tag, else after the doctype, else at the start (a browser opens the
/// body there by itself; text before the doctype would put the page in quirks mode). Works on the
/// text as Latin-1 (a byte per character), so an offset is a byte offset in any charset that
/// writes ASCII as ASCII.
/// </summary>
internal static class HtmlBodyStart
{
    /// <summary>Elements whose content is text up to their end tag, where "&lt;body" means nothing.</summary>
    private static readonly string[] RawText = ["script", "style", "title", "textarea", "xmp", "noscript", "iframe", "noembed", "noframes"];

    public static int Find(string html)
    {
        int afterDoctype = 0, afterHtml = -1, afterHead = -1;
        var at = 0;
        while ((at = html.IndexOf('<', at)) >= 0)
        {
            if (Follows(html, at, "<!--"))
            {
                var close = html.IndexOf("-->", at + 4, StringComparison.Ordinal);
                if (close < 0) break;
                at = close + 3;
                continue;
            }
            if (Follows(html, at, "<!") || Follows(html, at, "<?"))
            {
                var close = html.IndexOf('>', at);
                if (close < 0) break;
                if (Follows(html, at, "<!doctype")) afterDoctype = close + 1;
                at = close + 1;
                continue;
            }
            var closing = at + 1 < html.Length && html[at + 1] == '/';
            var nameStart = closing ? at + 2 : at + 1;
            var nameEnd = nameStart;
            while (nameEnd < html.Length && char.IsAsciiLetterOrDigit(html[nameEnd])) nameEnd++;
            if (nameEnd == nameStart || !char.IsAsciiLetter(html[nameStart]))
            {
                at++; // a lone "<" is text
                continue;
            }
            var name = html[nameStart..nameEnd].ToLowerInvariant();
            var end = TagEnd(html, nameEnd);
            if (end < 0) break;
            if (!closing && name == "body") return end;
            if (!closing && name == "html" && afterHtml < 0) afterHtml = end;
            if (closing && name == "head" && afterHead < 0) afterHead = end;
            at = end;
            if (!closing && RawText.Contains(name))
            {
                var endTag = html.IndexOf("</" + name, at, StringComparison.OrdinalIgnoreCase);
                if (endTag < 0) break;
                at = endTag;
            }
        }
        return afterHead >= 0 ? afterHead : afterHtml >= 0 ? afterHtml : afterDoctype;
    }

    /// <summary>Just after the "&gt;" that ends a tag, quoted attribute values skipped; -1 when it does not end.</summary>
    private static int TagEnd(string html, int from)
    {
        var value = false; // after "=", before the value
        for (var i = from; i < html.Length; i++)
        {
            var c = html[i];
            if (c == '>') return i + 1;
            if (c == '=') value = true;
            else if (value && c is '"' or '\'')
            {
                var quote = html.IndexOf(c, i + 1);
                if (quote < 0) return -1;
                i = quote;
                value = false;
            }
            else if (!char.IsWhiteSpace(c)) value = false;
        }
        return -1;
    }

    private static bool Follows(string html, int at, string text) => string.Compare(html, at, text, 0, text.Length, StringComparison.OrdinalIgnoreCase) == 0;
}
