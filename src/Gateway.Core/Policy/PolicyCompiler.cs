using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Policy;

/// <summary>
/// Turns policy.json into a <see cref="PolicySnapshot"/>, or into errors with file, line and
/// column. Strict on purpose: an unknown key is more likely a typo that would silently weaken
/// the policy than a harmless extra.
/// </summary>
public static class PolicyCompiler
{
    private static readonly JsonSerializerOptions SerializerOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        // Last-wins would let an appended block or a second "encrypt" silently undo the first;
        // JsonPositionMap reports the duplicate with its position before we get here.
        AllowDuplicateProperties = false,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    };

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static PolicyCompileResult Compile(ReadOnlySpan<byte> json, string file)
    {
        // Editors on Windows save UTF-8 with a byte order mark; it is not JSON, so it goes.
        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) json = json[3..];
        var positions = JsonPositionMap.Build(json, ReaderOptions);
        if (positions.Duplicate is { } duplicate)
            return Fail(new PolicyError(file, duplicate.Line, duplicate.Column,
                $"\"{duplicate.Name}\" is given twice in the same object (at {duplicate.Path}): only one may stay, merge them"));
        PolicyDocument? document;
        try
        {
            document = JsonSerializer.Deserialize<PolicyDocument>(json, SerializerOptions);
        }
        catch (JsonException e)
        {
            // A key or value error points at the key itself; a syntax error where the reader stopped.
            var (line, column) = e.Path is { Length: > 1 } path && !IsSyntaxError(e)
                ? positions.Find(path)
                : positions.FromLineAndByte(e.LineNumber ?? 0, e.BytePositionInLine ?? 0);
            return Fail(new PolicyError(file, line, column, Describe(e)));
        }

        var errors = new List<PolicyError>();
        PolicyError At(string path, string message)
        {
            var (line, column) = positions.Find(path);
            return new PolicyError(file, line, column, message);
        }

        // No key of the policy means anything as null, and read as "absent" it would widen a rule
        // ("recipients": null is everyone) or reach the compiler as a rule that is not there.
        if (positions.Nulls.Count > 0)
            return new PolicyCompileResult(null, positions.Nulls.Select(p => At(p, NullMessage(p))).ToList());

        if (document?.Default is null)
            return Fail(At("$", "the policy has no \"default\": every recipient must have an explicit outcome"));

        var defaultAction = CompileDefault(document.Default, e => errors.Add(At("$.default", e)));
        if (defaultAction is not null && Contradiction(defaultAction.Crypto) is { } defaultContradiction)
            errors.Add(At("$.default.authenticatedEncryption", defaultContradiction));
        var triggers = document.Triggers is null ? null : TriggerCompiler.Compile(document.Triggers, "$.triggers", errors, At);
        var rules = new List<PolicyRule>();
        var rulePaths = new List<string>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < (document.Rules?.Count ?? 0); i++)
        {
            var rule = document.Rules![i];
            var path = $"$.rules[{i}]";
            if (string.IsNullOrWhiteSpace(rule.Name)) { errors.Add(At(path, $"rule {i + 1} has no \"name\"")); continue; }
            if (!names.Add(rule.Name)) errors.Add(At(path + ".name", $"rule name \"{rule.Name}\" is used twice"));
            if (string.Equals(rule.Name, PolicySnapshot.DefaultRuleName, StringComparison.OrdinalIgnoreCase))
                errors.Add(At(path + ".name", "\"default\" is reserved for the default action"));
            var senders = CompilePatterns(rule.Senders, path + ".senders", errors, At);
            var recipients = CompilePatterns(rule.Recipients, path + ".recipients", errors, At);
            if (rule.Triggered == true && document.Triggers is null)
                errors.Add(At(path + ".triggered", "\"triggered\" needs a top-level \"triggers\" section that says which marks count"));
            if (defaultAction is not null)
            {
                var action = Inherit(rule, defaultAction);
                // A contradiction the rule inherits whole from the default is reported once, at the default.
                if ((rule.AuthenticatedEncryption is not null || rule.ContentEncryption is not null) && Contradiction(action.Crypto) is { } contradiction)
                    errors.Add(At(path + ".authenticatedEncryption", contradiction));
                rules.Add(new PolicyRule(rule.Name, senders, recipients, action, rule.Triggered == true));
                rulePaths.Add(path);
            }
        }

        if (errors.Count == 0) PolicyRuleChecks.Check(rules, rulePaths, errors, At);
        if (errors.Count > 0 || defaultAction is null) return new PolicyCompileResult(null, errors);
        var revision = Convert.ToHexStringLower(SHA256.HashData(json))[..12];
        return new PolicyCompileResult(new PolicySnapshot(revision, file, rules, defaultAction, triggers), errors);
    }

    private static PolicyAction? CompileDefault(PolicyActionDocument d, Action<string> error)
    {
        var missing = new List<string>();
        if (d.Sign is null) missing.Add("sign");
        if (d.Encrypt is null) missing.Add("encrypt");
        if (d.MissingCertificate is null) missing.Add("missingCertificate");
        if (missing.Count > 0)
        {
            error($"the default must state {string.Join(", ", missing)} explicitly");
            return null;
        }
        return new PolicyAction(d.Sign!.Value, d.Encrypt!.Value, d.MissingCertificate!.Value, new CryptoSettings(
            d.ContentEncryption ?? CryptoSettings.Default.ContentEncryption,
            d.KeyTransport ?? CryptoSettings.Default.KeyTransport,
            d.Digest ?? CryptoSettings.Default.Digest,
            d.SignatureForm ?? CryptoSettings.Default.SignatureForm,
            d.SignaturePadding ?? CryptoSettings.Default.SignaturePadding,
            d.AuthenticatedEncryption ?? CryptoSettings.Default.AuthenticatedEncryption,
            d.HeaderProtection ?? CryptoSettings.Default.HeaderProtection));
    }

    /// <summary>"never" with a GCM cipher (set here or inherited from the default) would have one of the two ignored: the admin says which.</summary>
    private static string? Contradiction(CryptoSettings crypto) =>
        crypto.AuthenticatedEncryption == AuthenticatedEncryption.Never && crypto.IsAuthenticated
            ? $"\"authenticatedEncryption\": \"never\" contradicts \"contentEncryption\": \"{System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(crypto.ContentEncryption.ToString())}\" (set here or in the default): give a CBC cipher, or leave \"never\" out"
            : null;

    private static PolicyAction Inherit(PolicyActionDocument rule, PolicyAction d) => new(
        rule.Sign ?? d.Sign,
        rule.Encrypt ?? d.Encrypt,
        rule.MissingCertificate ?? d.MissingCertificate,
        new CryptoSettings(
            rule.ContentEncryption ?? d.Crypto.ContentEncryption,
            rule.KeyTransport ?? d.Crypto.KeyTransport,
            rule.Digest ?? d.Crypto.Digest,
            rule.SignatureForm ?? d.Crypto.SignatureForm,
            rule.SignaturePadding ?? d.Crypto.SignaturePadding,
            rule.AuthenticatedEncryption ?? d.Crypto.AuthenticatedEncryption,
            rule.HeaderProtection ?? d.Crypto.HeaderProtection));

    internal static List<AddressPattern> CompilePatterns(
        List<string>? texts, string path, List<PolicyError> errors, Func<string, string, PolicyError> at)
    {
        var patterns = new List<AddressPattern>();
        if (texts is null) return patterns;
        if (texts.Count == 0) errors.Add(at(path, "an empty list matches nothing; leave the key out to match everyone"));
        for (var i = 0; i < texts.Count; i++)
        {
            if (AddressPattern.TryParse(texts[i] ?? "", out var pattern, out var error)) patterns.Add(pattern!);
            else errors.Add(at($"{path}[{i}]", error!));
        }
        return patterns;
    }

    private static PolicyCompileResult Fail(PolicyError error) => new(null, [error]);

    private static string NullMessage(string path) => path switch
    {
        "$" => "the policy is null: it must be an object with a \"default\"",
        _ when path.StartsWith("$.rules[", StringComparison.Ordinal) && path.IndexOf(']') == path.Length - 1 => $"a rule must be an object ({{ \"name\": ..., ... }}), not null ({path})",
        _ when path.EndsWith(']') => $"a pattern must be a string such as \"example.com\", not null ({path})",
        _ => $"null is not a value at {path}: give a value, or leave the key out",
    };

    /// <summary>Line and column of a JSON path (e.g. $.rules[1].senders[0]) in the policy text, for checks made after compiling.</summary>
    public static (int Line, int Column) Locate(ReadOnlySpan<byte> json, string path)
    {
        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) json = json[3..];
        return JsonPositionMap.Build(json, ReaderOptions).Find(path);
    }

    private static bool IsSyntaxError(JsonException e) =>
        !e.Message.Contains("could not be mapped", StringComparison.Ordinal) && !e.Message.Contains("could not be converted", StringComparison.Ordinal);

    private static string Describe(JsonException e)
    {
        // System.Text.Json's message repeats the position and the .NET type names; keep the admin's words.
        var message = e.Message;
        if (message.Contains("could not be mapped", StringComparison.Ordinal))
            return PolicyKeys.UnknownKey(e.Path ?? "$");
        if (message.Contains("could not be converted", StringComparison.Ordinal))
            return PolicyKeys.InvalidValue(e.Path ?? "$");
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut].TrimEnd('.', ' ') : message;
    }
}
