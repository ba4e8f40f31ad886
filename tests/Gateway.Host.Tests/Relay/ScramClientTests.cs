using System.Security.Cryptography;
using Gateway.Relay;

namespace Gateway.Tests.Relay;

/// <summary>SCRAM's client side against the RFCs' own examples (RFC 5802 §5 for SHA-1, RFC 7677 §3 for SHA-256).</summary>
public sealed class ScramClientTests
{
    [Theory]
    [InlineData("SHA1", "fyko+d2lbbFgONRv9qkxdawL", "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")]
    [InlineData("SHA256", "rOprNGfwEbeRWgbNEkqO", "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")]
    public void TheRfcExample_GivesTheRfcsProof_AndAcceptsOnlyTheRfcsServerSignature(string hash, string nonce, string serverFirst, string clientFinal, string serverFinal)
    {
        var scram = new ScramClient(new HashAlgorithmName(hash), "user", "pencil", nonce);

        Assert.Equal($"n,,n=user,r={nonce}", scram.ClientFirst);
        Assert.Equal(clientFinal, scram.ClientFinal(serverFirst, out var error));
        Assert.Null(error);
        Assert.True(scram.VerifiesServer(serverFinal));
        Assert.False(scram.VerifiesServer(serverFinal[..^5] + "AAAA="));
    }

    [Theory]
    [InlineData("r=other-nonce,s=QSXCR+Q6sek8bf92,i=4096", "nonce")]
    [InlineData("r=abcdef,s=QSXCR+Q6sek8bf92,i=4096", "nonce")] // not extended
    [InlineData("r=abcdefXYZ,s=QSXCR+Q6sek8bf92,i=0", "iterations")]
    [InlineData("r=abcdefXYZ,s=QSXCR+Q6sek8bf92,i=4095", "iterations")]
    [InlineData("r=abcdefXYZ,s=,i=4096", "salt")]
    [InlineData("r=abcdefXYZ,s=QSXCR+Q6sek8bf92,i=99999999", "iterations")]
    [InlineData("r=abcdefXYZ,s=not base64!,i=4096", "salt")]
    [InlineData("m=ext,r=abcdefXYZ,s=QSXCR+Q6sek8bf92,i=4096", "extension")]
    public void AServerFirstMessageThatCannotBeTrusted_IsRefused(string serverFirst, string why)
    {
        var scram = new ScramClient(HashAlgorithmName.SHA256, "user", "pencil", "abcdef");

        Assert.Null(scram.ClientFinal(serverFirst, out var error));
        Assert.Contains(why, error);
        Assert.False(scram.VerifiesServer("v=anything"));
    }

    [Fact]
    public void SpecialCharactersInTheUserName_AreEscaped() =>
        Assert.Equal("n,,n=a=2Cb=3Dc,r=xyz", new ScramClient(HashAlgorithmName.SHA256, "a,b=c", "p", "xyz").ClientFirst);
}
