using System.Formats.Asn1;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Smime;

/// <summary>
/// What the envelope needs from a recipient's certificate, worked out once per certificate object
/// instead of once per message: importing an RSA public key costs OpenSSL 3 about 0.1 ms (five
/// times the key transport itself), and the certificate resolver hands out the same objects for as
/// long as it caches a choice. Entries are keyed by object identity and live as long as the
/// certificate does; each also keeps the certificate's bytes and is used only while they are the
/// certificate's bytes, so no certificate is ever given another one's key or name.
/// </summary>
internal static class RecipientKeyCache
{
    private static readonly ConditionalWeakTable<X509Certificate2, Entry> Entries = new();

    public static Entry For(X509Certificate2 certificate)
    {
        if (Entries.TryGetValue(certificate, out var entry) && entry.Matches(certificate)) return entry;
        entry = new Entry(certificate);
        Entries.AddOrUpdate(certificate, entry);
        return entry;
    }

    public sealed class Entry
    {
        /// <summary>Enough for the workers that encrypt to one recipient at once; more are made when needed and dropped after use.</summary>
        private const int PooledKeys = 4;

        private readonly byte[] _certificate;
        private readonly X509Certificate2 _source;
        private readonly Stack<RSA> _keys = new();

        internal Entry(X509Certificate2 certificate)
        {
            _source = certificate;
            _certificate = certificate.RawData;
            (Issuer, Serial) = IssuerAndSerialNumber(_certificate);
        }

        /// <summary>The issuer Name exactly as the certificate encodes it.</summary>
        public ReadOnlyMemory<byte> Issuer { get; }

        /// <summary>The serialNumber INTEGER exactly as the certificate encodes it.</summary>
        public ReadOnlyMemory<byte> Serial { get; }

        internal bool Matches(X509Certificate2 certificate) => certificate.RawDataMemory.Span.SequenceEqual(_certificate);

        /// <summary>
        /// Encrypts the content-encryption key to this recipient. An RSA object is not documented as
        /// safe for concurrent use, so each caller takes one of its own from the pool.
        /// </summary>
        public byte[] EncryptKey(byte[] key, RSAEncryptionPadding padding)
        {
            var rsa = Rent();
            try
            {
                return rsa.Encrypt(key, padding);
            }
            finally
            {
                Return(rsa);
            }
        }

        private RSA Rent()
        {
            lock (_keys)
            {
                if (_keys.TryPop(out var pooled)) return pooled;
            }
            return _source.GetRSAPublicKey() ?? throw new CryptographicException($"certificate {_source.Thumbprint} has no RSA key to encrypt to");
        }

        private void Return(RSA rsa)
        {
            lock (_keys)
            {
                if (_keys.Count < PooledKeys)
                {
                    _keys.Push(rsa);
                    return;
                }
            }
            rsa.Dispose();
        }

        private static (ReadOnlyMemory<byte> Issuer, ReadOnlyMemory<byte> Serial) IssuerAndSerialNumber(byte[] certificate)
        {
            // BER: a certificate from a directory is not always strict DER, and its bytes are copied as they are.
            var tbs = new AsnReader(certificate, AsnEncodingRules.BER).ReadSequence().ReadSequence();
            if (tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true))) tbs.ReadEncodedValue(); // version
            var serial = tbs.ReadEncodedValue();
            tbs.ReadEncodedValue(); // signature algorithm
            var issuer = tbs.ReadEncodedValue();
            return (issuer, serial);
        }
    }
}
