using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Certificates;
using Gateway.Testing.Pki;

namespace Gateway.Tests.Certificates;

/// <summary>
/// Which certificates a signed message yields for encrypting to its sender: the signer's own, or,
/// for a signing-only certificate (the dual-key set-ups of many company PKIs), the encryption
/// certificate it came with, the one SMIMEEncryptionKeyPreference names first (RFC 8551 §2.5.3).
/// </summary>
public sealed class SignatureHarvesterTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private const string Frank = "frank@partner.test";

    private TestIdentity SigningOnly() => fixture.Pki.Issue(Frank, new CertificateOptions { KeyUsage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation });

    private TestIdentity EncryptionOnly(string address = Frank) => fixture.Pki.Issue(address, new CertificateOptions { KeyUsage = X509KeyUsageFlags.KeyEncipherment });

    /// <summary>A detached multipart/signed message from Frank, carrying <paramref name="carried"/> and, when given, SMIMEEncryptionKeyPreference naming <paramref name="preferred"/>.</summary>
    /// <param name="essNames">Sign this certificate as the signer's (ESS signingCertificateV2).</param>
    /// <param name="substitute">Carry this certificate in place of the signer's, after signing.</param>
    private static byte[] Signed(TestIdentity signer, IEnumerable<X509Certificate2> carried, X509Certificate2? preferred = null, string from = Frank, bool microsoftForm = false,
        X509Certificate2? essNames = null, X509Certificate2? substitute = null)
    {
        var entity = Encoding.ASCII.GetBytes("Content-Type: text/plain; charset=us-ascii\r\n\r\nFrom Frank.\r\n");
        var cms = new SignedCms(new ContentInfo(entity), detached: true);
        var signerInfo = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, signer.Certificate) { DigestAlgorithm = new Oid("2.16.840.1.101.3.4.2.1"), IncludeOption = X509IncludeOption.EndCertOnly };
        signerInfo.Certificates.AddRange(carried.ToArray());
        if (preferred is not null)
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            // Microsoft's attribute is a plain IssuerAndSerialNumber; the RFC's is its [0] IMPLICIT choice.
            using (writer.PushSequence(microsoftForm ? Asn1Tag.Sequence : new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                writer.WriteEncodedValue(preferred.IssuerName.RawData);
                writer.WriteInteger(preferred.SerialNumberBytes.Span);
            }
            signerInfo.SignedAttributes.Add(new AsnEncodedData(new Oid(microsoftForm ? "1.3.6.1.4.1.311.16.4" : "1.2.840.113549.1.9.16.2.11"), writer.Encode()));
        }
        if (essNames is not null) signerInfo.SignedAttributes.Add(Gateway.Smime.SignedAttributes.SigningCertificateV2(essNames));
        cms.ComputeSignature(signerInfo);
        if (substitute is not null)
        {
            cms.RemoveCertificate(signer.Certificate);
            cms.AddCertificate(substitute);
        }
        var signature = Convert.ToBase64String(cms.Encode(), Base64FormattingOptions.InsertLineBreaks);
        var message = $"From: <{from}>\r\nTo: <alice@example.test>\r\nSubject: signed\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b\"\r\n\r\n" +
            "--b\r\n" + Encoding.ASCII.GetString(entity) + "\r\n--b\r\n" +
            "Content-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n" + signature + "\r\n--b--\r\n";
        return Encoding.ASCII.GetBytes(message);
    }

    /// <summary>
    /// A certificate with Frank's issuer, serial and key but other contents, carried in place of
    /// the one his signature signs (ESS signingCertificateV2): it verifies the signature value,
    /// and without the check it would be harvested and encrypted to.
    /// </summary>
    [Fact]
    public void ASubstitutedSignerCertificate_IsRefused_WhenTheSignatureSignsItsOwn()
    {
        var frank = fixture.Pki.Issue(Frank, new CertificateOptions { KeyUsage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment });
        var twin = fixture.Pki.Twin(frank.PublicCertificate, Frank);

        var genuine = SignatureHarvester.Harvest(Signed(frank, [], essNames: frank.PublicCertificate), fixture.Trust());
        var substituted = SignatureHarvester.Harvest(Signed(frank, [], essNames: frank.PublicCertificate, substitute: twin), fixture.Trust());
        var unbound = SignatureHarvester.Harvest(Signed(frank, [], substitute: twin), fixture.Trust());

        Assert.True(genuine.Accepted, string.Join("; ", genuine.Problems));
        Assert.False(substituted.Accepted);
        Assert.Contains(substituted.Problems, p => p.Contains("signingCertificateV2 attribute signs another certificate than the one it carries", StringComparison.Ordinal));
        // Without the attribute nothing binds the certificate: the twin is taken, as any client takes it.
        Assert.True(unbound.Accepted, string.Join("; ", unbound.Problems));
    }

    [Fact]
    public void ADualUseSigner_IsItselfTheCertificateToEncryptTo()
    {
        var frank = fixture.Pki.Issue(Frank);
        var result = SignatureHarvester.Harvest(Signed(frank, []), fixture.Trust());

        Assert.True(result.Accepted, string.Join("; ", result.Problems));
        Assert.Equal([frank.Certificate.Thumbprint], result.EncryptionCertificates.Select(c => c.Thumbprint));
    }

    /// <summary>Exchange and Outlook capitalise the From address as the directory spells the name; the certificate says frank@.</summary>
    [Fact]
    public void AFromAddressCapitalisedOtherwiseThanTheCertificate_IsStillHarvested()
    {
        var frank = fixture.Pki.Issue(Frank);
        var result = SignatureHarvester.Harvest(Signed(frank, [], from: "Frank@Partner.test"), fixture.Trust());

        Assert.True(result.Accepted, string.Join("; ", result.Problems));
        Assert.Equal([frank.Certificate.Thumbprint], result.EncryptionCertificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void AnEcSigner_SentWithAnRsaCertificate_YieldsTheRsaOne_AndAloneYieldsItself()
    {
        var ec = fixture.Pki.Issue(Frank, new CertificateOptions { EcCurve = System.Security.Cryptography.ECCurve.NamedCurves.nistP256 });
        var rsa = fixture.Pki.Issue(Frank);

        var dualKey = SignatureHarvester.Harvest(Signed(ec, [rsa.PublicCertificate]), fixture.Trust());
        var alone = SignatureHarvester.Harvest(Signed(ec, []), fixture.Trust());

        Assert.True(dualKey.Accepted, string.Join("; ", dualKey.Problems));
        Assert.Equal([rsa.Certificate.Thumbprint], dualKey.EncryptionCertificates.Select(c => c.Thumbprint));
        Assert.True(alone.Accepted, string.Join("; ", alone.Problems));
        Assert.Equal([ec.Certificate.Thumbprint], alone.EncryptionCertificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void ASigningOnlySigner_YieldsTheEncryptionCertificateItCameWith()
    {
        var signing = SigningOnly();
        var encryption = EncryptionOnly();
        var someoneElse = EncryptionOnly("eve@partner.test");

        var result = SignatureHarvester.Harvest(Signed(signing, [encryption.PublicCertificate, someoneElse.PublicCertificate]), fixture.Trust());

        Assert.True(result.Accepted, string.Join("; ", result.Problems));
        Assert.Equal(signing.Certificate.Thumbprint, result.Signer!.Thumbprint);
        Assert.Equal([encryption.Certificate.Thumbprint], result.EncryptionCertificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void WithoutAPreference_TheNewestCarriedEncryptionCertificate_IsTheOne()
    {
        var signing = SigningOnly();
        var older = fixture.Pki.Issue(Frank, new CertificateOptions { KeyUsage = X509KeyUsageFlags.KeyEncipherment, NotBefore = DateTimeOffset.UtcNow.AddDays(-30) });
        var newer = fixture.Pki.Issue(Frank, new CertificateOptions { KeyUsage = X509KeyUsageFlags.KeyEncipherment, NotBefore = DateTimeOffset.UtcNow.AddDays(-3) });

        var result = SignatureHarvester.Harvest(Signed(signing, [newer.PublicCertificate, older.PublicCertificate]), fixture.Trust());
        var reversed = SignatureHarvester.Harvest(Signed(signing, [older.PublicCertificate, newer.PublicCertificate]), fixture.Trust());

        Assert.Equal([newer.Certificate.Thumbprint], result.EncryptionCertificates.Select(c => c.Thumbprint));
        Assert.Equal([newer.Certificate.Thumbprint], reversed.EncryptionCertificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void EncryptionKeyPreference_NamesTheOneToUse_AmongSeveralCarried()
    {
        var signing = SigningOnly();
        var older = EncryptionOnly();
        var preferred = EncryptionOnly();

        var result = SignatureHarvester.Harvest(Signed(signing, [older.PublicCertificate, preferred.PublicCertificate], preferred.PublicCertificate), fixture.Trust());

        Assert.True(result.Accepted, string.Join("; ", result.Problems));
        Assert.Equal([preferred.Certificate.Thumbprint], result.EncryptionCertificates.Select(c => c.Thumbprint));
    }

    /// <summary>Older Outlook writes only Microsoft's attribute; NSS reads it when the RFC's is absent, and so do we.</summary>
    [Fact]
    public void MicrosoftsEncryptionKeyPreference_IsReadWhenTheRfcAttributeIsAbsent()
    {
        var signing = SigningOnly();
        var older = EncryptionOnly();
        var preferred = EncryptionOnly();

        var result = SignatureHarvester.Harvest(Signed(signing, [preferred.PublicCertificate, older.PublicCertificate], older.PublicCertificate, microsoftForm: true), fixture.Trust());

        Assert.True(result.Accepted, string.Join("; ", result.Problems));
        Assert.Equal([older.Certificate.Thumbprint], result.EncryptionCertificates.Select(c => c.Thumbprint));
    }

    /// <summary>What Gateway signs for a dual-key sender gives a partner's gateway (or client) the sender's encryption certificate.</summary>
    [Fact]
    public void WhatTheGatewaySigns_ForADualKeySender_YieldsTheSendersEncryptionCertificate()
    {
        var signing = SigningOnly();
        var encryption = EncryptionOnly();
        var original = Encoding.ASCII.GetBytes($"From: <{Frank}>\r\nTo: <alice@example.test>\r\nSubject: dual key\r\n\r\nReply to me encrypted.\r\n");
        var request = new Gateway.Smime.SmimeRequest(signing.Certificate, [signing.PublicCertificate], [], Gateway.Policy.CryptoSettings.Default)
        {
            ReplyCertificateChain = [encryption.PublicCertificate],
        };
        var signed = new MemoryStream();
        Gateway.Smime.SmimeTransformer.Transform(new MemoryStream(original), request, signed, DateTimeOffset.UtcNow, CancellationToken.None);

        var result = SignatureHarvester.Harvest(signed.ToArray(), fixture.Trust());

        Assert.True(result.Accepted, string.Join("; ", result.Problems));
        Assert.Equal(signing.Certificate.Thumbprint, result.Signer?.Thumbprint);
        Assert.Equal([encryption.Certificate.Thumbprint], result.EncryptionCertificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void ASigningOnlySigner_WithNoEncryptionCertificateOfItsOwnAddress_IsNotHarvested()
    {
        var signing = SigningOnly();
        var someoneElse = EncryptionOnly("eve@partner.test");

        var result = SignatureHarvester.Harvest(Signed(signing, [someoneElse.PublicCertificate], someoneElse.PublicCertificate), fixture.Trust());

        Assert.False(result.Accepted);
        Assert.Empty(result.EncryptionCertificates);
        Assert.Contains(result.Problems, p => p.StartsWith("no certificate of the sender to encrypt to", StringComparison.Ordinal));
    }

    [Fact]
    public void AnEncryptionCertificateFromAnUntrustedCa_IsNotHarvested_EvenWhenNamed()
    {
        var signing = SigningOnly();
        var untrusted = fixture.Pki.Issue(Frank, new CertificateOptions { KeyUsage = X509KeyUsageFlags.KeyEncipherment, FromUntrustedCa = true });

        var result = SignatureHarvester.Harvest(Signed(signing, [untrusted.PublicCertificate], untrusted.PublicCertificate), fixture.Trust());

        Assert.False(result.Accepted);
        Assert.Contains(result.Problems, p => p.Contains(untrusted.Certificate.Thumbprint, StringComparison.Ordinal));
    }

    [Fact]
    public void APreferenceNamingACertificateNotCarried_StoresNothing_NotTheSignersOwn()
    {
        var frank = fixture.Pki.Issue(Frank); // dual-use: it could be encrypted to, but the sender named another key
        var elsewhere = EncryptionOnly();

        var result = SignatureHarvester.Harvest(Signed(frank, [], elsewhere.PublicCertificate), fixture.Trust());

        Assert.False(result.Accepted);
        Assert.Contains(result.Problems, p => p.Contains("SMIMEEncryptionKeyPreference names a certificate the signature does not carry", StringComparison.Ordinal));
    }

    [Fact]
    public void AMalformedCarriedCertificate_IsAReason_NotACrash()
    {
        var signing = SigningOnly();
        // The extended key usage's SEQUENCE made a SET: the certificate loads, its extension does not decode.
        var der = EncryptionOnly().PublicCertificate.RawData;
        var eku = der.AsSpan().IndexOf(new byte[] { 0x06, 0x03, 0x55, 0x1D, 0x25 });
        var sequence = der.AsSpan(eku).IndexOf((byte)0x30) + eku;
        der[sequence] = 0x31;
        var malformed = X509CertificateLoader.LoadCertificate(der);

        var result = SignatureHarvester.Harvest(Signed(signing, [malformed]), fixture.Trust());

        Assert.False(result.Accepted);
        Assert.Contains(result.Problems, p => p.Contains("malformed certificate", StringComparison.Ordinal));
    }

    [Fact]
    public void ASha1SignedEncryptionCertificate_IsNotStored()
    {
        var signing = SigningOnly();
        using var caKey = RSA.Create();
        caKey.ImportFromPem(fixture.Pki.Root.PrivateKeyPem);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={Frank}, O=Gateway TEST ONLY", key, HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.4")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress(Frank);
        request.CertificateExtensions.Add(san.Build());
        using var sha1 = request.Create(fixture.Pki.Root.Certificate.SubjectName, new Sha1RsaGenerator(caKey),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(12));

        var result = SignatureHarvester.Harvest(Signed(signing, [sha1], sha1), fixture.Trust());

        Assert.False(result.Accepted);
        Assert.Contains(result.Problems, p => p.Contains("signed with SHA-1", StringComparison.Ordinal));
    }

    /// <summary>.NET's own RSA generator refuses SHA-1; a partner's old CA did not.</summary>
    private sealed class Sha1RsaGenerator(RSA key) : X509SignatureGenerator
    {
        public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm) =>
            Convert.FromHexString("300D06092A864886F70D0101050500"); // sha1WithRSAEncryption, NULL parameters

        public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm) => key.SignData(data, HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);

        protected override PublicKey BuildPublicKey() => PublicKey.CreateFromSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
    }

    [Fact]
    public void MoreCountersignaturesThanAnyClientWrites_AreRefusedUnverified()
    {
        // Each countersignature is one more signature verification: unbounded, a message of them costs minutes.
        var frank = fixture.Pki.Issue(Frank);
        var entity = Encoding.ASCII.GetBytes("Content-Type: text/plain; charset=us-ascii\r\n\r\nFrom Frank.\r\n");
        var cms = new SignedCms(new ContentInfo(entity), detached: true);
        cms.ComputeSignature(new CmsSigner(frank.Certificate));
        for (var i = 0; i < SignerInfoCount.MaximumCounterSigners + 1; i++) cms.SignerInfos[0].ComputeCounterSignature(new CmsSigner(frank.Certificate));
        var message = $"From: <{Frank}>\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b\"\r\n\r\n" +
            "--b\r\n" + Encoding.ASCII.GetString(entity) + "\r\n--b\r\n" +
            "Content-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            Convert.ToBase64String(cms.Encode(), Base64FormattingOptions.InsertLineBreaks) + "\r\n--b--\r\n";

        var result = SignatureHarvester.Harvest(Encoding.ASCII.GetBytes(message), fixture.Trust());
        Assert.False(result.Accepted);
        Assert.Contains($"more than {SignerInfoCount.MaximumCounterSigners} countersignatures", result.Problems);
    }
}
