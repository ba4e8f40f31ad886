using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Smime;

namespace Gateway.Tests.Smime;

/// <summary>The recipient key cache must give each certificate its own key and name, never another's.</summary>
public sealed class RecipientKeyCacheTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private static readonly byte[] ContentKey = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void TwoCertificates_EachEntryEncryptsToItsOwnKey_AndNamesItsOwnIssuerAndSerial()
    {
        var bob = fixture.Bob.PublicCertificate;
        var carol = fixture.Carol.PublicCertificate;

        var forBob = RecipientKeyCache.For(bob);
        var forCarol = RecipientKeyCache.For(carol);

        Assert.NotSame(forBob, forCarol);
        AssertBelongsTo(forBob, fixture.Bob.Certificate, other: fixture.Carol.Certificate);
        AssertBelongsTo(forCarol, fixture.Carol.Certificate, other: fixture.Bob.Certificate);
    }

    [Fact]
    public void SameCertificateObject_IsWorkedOutOnce()
    {
        var bob = fixture.Bob.PublicCertificate;

        Assert.Same(RecipientKeyCache.For(bob), RecipientKeyCache.For(bob));
    }

    [Fact]
    public void EqualCertificatesInTwoObjects_BothGetTheirRightKey()
    {
        var first = RecipientKeyCache.For(fixture.Bob.PublicCertificate);
        var second = RecipientKeyCache.For(fixture.Bob.PublicCertificate);

        AssertBelongsTo(first, fixture.Bob.Certificate, other: fixture.Carol.Certificate);
        AssertBelongsTo(second, fixture.Bob.Certificate, other: fixture.Carol.Certificate);
    }

    [Fact]
    public async Task ConcurrentEncryptions_ToOneAndToTwoRecipients_EachDecryptWithTheRightKey()
    {
        var bob = fixture.Bob.PublicCertificate;
        var carol = fixture.Carol.PublicCertificate;
        using var bobKey = fixture.Bob.Certificate.GetRSAPrivateKey()!;
        using var carolKey = fixture.Carol.Certificate.GetRSAPrivateKey()!;

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() =>
        {
            var toBob = i % 2 == 0;
            var key = RandomNumberGenerator.GetBytes(32);
            var encrypted = RecipientKeyCache.For(toBob ? bob : carol).EncryptKey(key, RSAEncryptionPadding.OaepSHA256);
            return (toBob, key, encrypted);
        })));

        foreach (var (toBob, key, encrypted) in results)
            Assert.Equal(key, (toBob ? bobKey : carolKey).Decrypt(encrypted, RSAEncryptionPadding.OaepSHA256));
    }

    private static void AssertBelongsTo(RecipientKeyCache.Entry entry, X509Certificate2 owner, X509Certificate2 other)
    {
        Assert.Equal(owner.IssuerName.RawData, entry.Issuer.ToArray());
        var serial = new AsnReader(entry.Serial, AsnEncodingRules.DER).ReadIntegerBytes();
        Assert.Equal(owner.SerialNumberBytes.ToArray(), serial.ToArray()); // both big-endian

        // OAEP: a wrong key always fails it, where PKCS#1 v1.5 with implicit rejection (OpenSSL 3.2+) returns random bytes.
        var encrypted = entry.EncryptKey(ContentKey, RSAEncryptionPadding.OaepSHA256);
        using var ownerKey = owner.GetRSAPrivateKey()!;
        Assert.Equal(ContentKey, ownerKey.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA256));
        using var otherKey = other.GetRSAPrivateKey()!;
        Assert.ThrowsAny<CryptographicException>(() => otherKey.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA256));
    }
}
