using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;

namespace Gateway.Tests.Certificates;

/// <summary>
/// Workers validate the same certificate at the same moment, often on its first use. .NET's
/// typed extensions decode lazily into shared fields; reading them from several threads once let
/// a good certificate look like it had no emailProtection EKU, and a recipient was refused.
/// </summary>
public sealed class SmimeCertificateValidatorConcurrencyTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    [Fact]
    public void FirstUseFromManyThreadsAtOnce_NeverRejectsAGoodCertificate()
    {
        var trust = fixture.Trust();
        var pem = fixture.Bob.CertificatePem;
        var problems = new System.Collections.Concurrent.ConcurrentBag<string>();
        for (var round = 0; round < 20; round++)
        {
            var loaded = new X509Certificate2Collection();
            loaded.ImportFromPem(pem); // fresh, loaded as the local store loads it: nothing decoded yet
            var shared = loaded[0];
            using var barrier = new Barrier(8);
            var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
            {
                barrier.SignalAndWait();
                for (var i = 0; i < 30; i++)
                {
                    var verdict = SmimeCertificateValidator.Validate(shared, "bob@partner.test", CertificateUsage.Encryption, trust);
                    foreach (var problem in verdict.Problems) problems.Add(problem);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
        }
        Assert.Empty(problems);
    }
}
