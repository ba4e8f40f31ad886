using System.Text.RegularExpressions;
using Gateway.Certificates;
using Gateway.Pipeline;
using Gateway.Policy;

namespace Gateway.Tests.Policy;

/// <summary>
/// One test per Golden/*.cases file: a policy, envelopes, the expected decisions (format in
/// Golden/README.md). Every mismatching line is reported, with its line number.
/// </summary>
public sealed partial class PolicyGoldenTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Policy", "Golden");

    public static TheoryData<string> CaseFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Folder, "*.cases").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileNameWithoutExtension(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseFiles))]
    public void GoldenCases_AllDecideAsExpected(string name)
    {
        var policyFile = Path.Combine(Folder, name + ".policy.json");
        var compiled = PolicyCompiler.Compile(File.ReadAllBytes(policyFile), policyFile);
        Assert.True(compiled.Succeeded, string.Join("\n", compiled.Errors));
        var policy = compiled.Snapshot!;

        var certificates = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var signers = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var failures = new List<string>();
        var cases = 0;
        var lines = File.ReadAllLines(Path.Combine(Folder, name + ".cases"));
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith("certificates:", StringComparison.Ordinal)) { certificates.UnionWith(Words(line)); continue; }
            if (line.StartsWith("signers:", StringComparison.Ordinal)) { signers.UnionWith(Words(line)); continue; }
            var match = CaseLine().Match(line);
            Assert.True(match.Success, $"{name}.cases:{i + 1}: cannot read \"{line}\" (see Golden/README.md)");
            cases++;

            var sender = match.Groups["from"].Value == "<>" ? "" : match.Groups["from"].Value;
            var recipient = match.Groups["to"].Value;
            var facts = MessageFacts.From(
                match.Groups["subject"].Success ? match.Groups["subject"].Value : null,
                match.Groups["header"].Success ? [match.Groups["header"].Value] : []);
            var answer = policy.Evaluate(sender, recipient, facts);
            var actual = new Dictionary<string, string>
            {
                ["rule"] = answer.RuleName,
                ["sign"] = Camel(answer.Sign),
                ["encrypt"] = Camel(answer.Encrypt),
                ["missing"] = Camel(answer.MissingCertificate),
                ["trigger"] = answer.Trigger is null ? "no" : "yes",
                ["outcome"] = Outcome(answer, sender, recipient, certificates, signers),
            };
            foreach (var expectation in match.Groups["expect"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var (key, value) = (expectation.Split('=')[0], expectation.Split('=')[1]);
                Assert.True(actual.ContainsKey(key), $"{name}.cases:{i + 1}: unknown key '{key}'");
                if (!string.Equals(actual[key], value, StringComparison.Ordinal))
                    failures.Add($"{name}.cases:{i + 1}: {sender} -> {recipient}: {key} is {actual[key]}, expected {value}");
            }
        }
        Assert.True(cases > 0, $"{name}.cases has no cases");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private string Outcome(RecipientPolicy answer, string sender, string recipient, HashSet<string> certificates, HashSet<string> signers)
    {
        var signer = signers.Contains(sender) ? Found(fixture.Alice.Certificate) : new CertificateChoice(null, [], "no signing identity", []);
        var certificate = certificates.Contains(recipient) ? Found(fixture.Bob.PublicCertificate) : new CertificateChoice(null, [], "no certificate", []);
        var planned = DeliveryPlanner.Decide(answer, answer.Sign == SignMode.Never ? null : signer, answer.Encrypt == EncryptMode.Never ? null : certificate, sender);
        return planned.Kind switch
        {
            TreatmentKind.Refuse => "refuse",
            TreatmentKind.Hold => "hold",
            _ => (planned.Sign, planned.Encrypt) switch
            {
                (true, true) => "sign+encrypt",
                (false, true) => "encrypt",
                (true, false) => "sign",
                _ => "unchanged",
            },
        };
    }

    private static CertificateChoice Found(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        new(new CertificateCandidate(certificate, "golden"), [certificate], "golden test certificate", []);

    private static IEnumerable<string> Words(string line) => line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static string Camel<T>(T value) where T : struct, Enum => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    [GeneratedRegex("""^(?<from>\S+)\s+(?<to>\S+)(?:\s+subject\s+"(?<subject>[^"]*)")?(?:\s+header\s+"(?<header>[^"]*)")?\s*=>\s*(?<expect>.+)$""")]
    private static partial Regex CaseLine();
}
