namespace Gateway.Policy;

/// <summary>Validates the "triggers" section: at least one mark, sane values, and an explicit list of who may use them.</summary>
internal static class TriggerCompiler
{
    public static TriggerSettings? Compile(TriggersDocument d, string path, List<PolicyError> errors, Func<string, string, PolicyError> at)
    {
        var before = errors.Count;
        if (d.SubjectTag is null && d.Header is null)
            errors.Add(at(path, "\"triggers\" needs a \"subjectTag\", a \"header\", or both"));
        if (d.SubjectTag is { } tag && (tag.Trim().Length == 0 || tag.Any(char.IsControl)))
            errors.Add(at(path + ".subjectTag", "the subject tag must be visible text on one line, e.g. \"[secure]\""));
        if (d.Header is { } header)
        {
            if (header.Name is null || header.Name.Length == 0 || !header.Name.All(c => c > ' ' && c < 127 && c != ':'))
                errors.Add(at(path + ".header" + (header.Name is null ? "" : ".name"), "the trigger header needs a \"name\" such as \"X-Gateway-Encrypt\" (letters, digits and '-', no ':')"));
            if (string.IsNullOrWhiteSpace(header.Value) || header.Value.Any(char.IsControl))
                errors.Add(at(path + ".header" + (header.Value is null ? "" : ".value"), "the trigger header needs a \"value\" such as \"yes\""));
        }
        if (d.AllowedSenders is null)
            errors.Add(at(path, "\"triggers\" needs \"allowedSenders\": who may ask for encryption (e.g. [\"example.com\"], or [\"*\"] for everyone)"));
        var allowed = PolicyCompiler.CompilePatterns(d.AllowedSenders, path + ".allowedSenders", errors, at);
        return errors.Count > before ? null : new TriggerSettings(d.SubjectTag?.Trim(), d.Header?.Name, d.Header?.Value?.Trim(), allowed);
    }
}
