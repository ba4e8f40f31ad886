using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Mail;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Gateway.Certificates;

/// <summary>
/// The persistent certificate cache (SQLite): certificates directories returned and harvested
/// ones, per address and source with first and last seen, and negative answers ("directory X had
/// nothing for this address at time T"). It survives restarts. WAL mode lets readers go on while
/// one worker writes; each operation opens its own connection (pooled), so workers share nothing
/// but the file, and SQLite's busy handling (the command timeout) serialises the writers.
/// A certificate from here is only a candidate: it is validated again on every use.
/// </summary>
public sealed class CertificateCache
{
    private readonly string _connectionString;
    private readonly TimeProvider _time;

    public CertificateCache(IOptions<GatewayOptions> options, TimeProvider time)
    {
        _time = time;
        Settings = options.Value.Certificates.Cache;
        var path = Path.GetFullPath(Settings.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, DefaultTimeout = 30 }.ToString();
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS certificates (
                address TEXT NOT NULL, thumbprint TEXT NOT NULL, source TEXT NOT NULL, der BLOB NOT NULL,
                capabilities BLOB, chain BLOB, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
                PRIMARY KEY (address, thumbprint, source));
            CREATE TABLE IF NOT EXISTS negatives (
                address TEXT NOT NULL, source TEXT NOT NULL, checked INTEGER NOT NULL,
                PRIMARY KEY (address, source));
            """);
        RekeyInternationalDomains(connection);
    }

    /// <summary>
    /// Rows written before keys took the ASCII form of a domain (<see cref="Key"/>) may hold the
    /// Unicode form: they are moved to the new key, once, so they are still found.
    /// </summary>
    private static void RekeyInternationalDomains(SqliteConnection connection)
    {
        foreach (var table in new[] { "certificates", "negatives" })
        {
            var old = new List<string>();
            using (var select = connection.CreateCommand())
            {
                select.CommandText = $"SELECT DISTINCT address FROM {table} WHERE address GLOB '*[^ -~]*'";
                using var reader = select.ExecuteReader();
                while (reader.Read()) old.Add(reader.GetString(0));
            }
            foreach (var address in old.Where(a => Key(a) != a))
            {
                using var move = connection.CreateCommand();
                // OR IGNORE: a row already under the new key wins; the old one is then dropped. Run again
                // after a crash half-way, it finishes the job.
                move.CommandText = $"UPDATE OR IGNORE {table} SET address = $new WHERE address = $old; DELETE FROM {table} WHERE address = $old";
                move.Parameters.AddWithValue("$new", Key(address));
                move.Parameters.AddWithValue("$old", address);
                move.ExecuteNonQuery();
            }
        }
    }

    public CertificateCacheOptions Settings { get; }

    /// <summary>Records that <paramref name="source"/> returned these certificates for the address now (and clears its negative answer).</summary>
    public void RememberFound(string address, string source, IEnumerable<X509Certificate2> certificates, byte[]? capabilities = null,
        IReadOnlyList<X509Certificate2>? chain = null) =>
        RememberAnswer(address, source, certificates.Select(c => (c, chain)).ToList(), capabilities);

    /// <summary>
    /// Records one whole answer of <paramref name="source"/>: every certificate with its own chain,
    /// under one time, in one transaction, so "the latest answer" (<see cref="CacheCertificateSource"/>)
    /// is all of it.
    /// </summary>
    /// <param name="replace">The answer replaces what the source gave for the address before (a partner's latest signed message says which key to use now).</param>
    public void RememberAnswer(string address, string source, IReadOnlyList<(X509Certificate2 Certificate, IReadOnlyList<X509Certificate2>? Chain)> answer,
        byte[]? capabilities = null, bool replace = false)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        Write(connection, Key(address), source, answer, capabilities, replace, now);
        transaction.Commit();
    }

    /// <summary>
    /// Records what a verified signed message yields for its sender (source "harvested"). It
    /// replaces what earlier messages gave: the sender's latest message says which key to use now
    /// (its SMIMEEncryptionKeyPreference), and a certificate someone added to an earlier one's
    /// unsigned certificate set does not stay a recipient. Unless a certificate kept from an
    /// earlier message is newer than this one's: then this message is old (replayed from an
    /// archive, or late) and stores nothing; a certificate it carries that is kept already only
    /// counts as seen. Adding it beside the newer one would let anyone holding an old signed
    /// message put a replaced key (perhaps on a lost device) back into every encrypted copy.
    /// Imported files are not touched.
    /// </summary>
    /// <returns>Null when the message's certificates are the sender's now; otherwise why nothing was stored.</returns>
    public string? RememberHarvest(HarvestResult result)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var key = Key(result.Address!);
        using var connection = Open();
        // The check and the write under one write lock (BEGIN IMMEDIATE): checked apart, an old
        // message's harvest could find nothing newer, a new one's be stored, and the old one then replace it.
        using var transaction = connection.BeginTransaction(deferred: false);
        var newest = result.EncryptionCertificates.Max(c => c.NotBefore);
        var kept = Harvested(connection, key);
        if (kept.Any(c => c.NotBefore > newest))
        {
            var carried = result.EncryptionCertificates.Select(c => c.Thumbprint).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var seenAgain = kept.Where(c => carried.Contains(c.Thumbprint)).ToList();
            if (seenAgain.Count == 0) return "a newer certificate of the sender is kept from a later message (this one is old: replayed, or late)";
            Write(connection, key, HarvestedCertificateSource.SourceName, seenAgain.Select(c => (c, (IReadOnlyList<X509Certificate2>?)null)).ToList(), null, replace: false, now);
        }
        else
        {
            Write(connection, key, HarvestedCertificateSource.SourceName,
                result.EncryptionCertificates.Select(c => (c, (IReadOnlyList<X509Certificate2>?)result.Chain)).ToList(), result.Capabilities, replace: true, now);
        }
        transaction.Commit();
        return null;
    }

    /// <summary>The certificates kept from signed messages for the address (not imported files), read inside the caller's transaction.</summary>
    private static List<X509Certificate2> Harvested(SqliteConnection connection, string key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT der FROM certificates WHERE address = $address AND source = $source";
        command.Parameters.AddWithValue("$address", key);
        command.Parameters.AddWithValue("$source", HarvestedCertificateSource.SourceName);
        using var reader = command.ExecuteReader();
        var found = new List<X509Certificate2>();
        while (reader.Read()) found.Add(X509CertificateLoader.LoadCertificate((byte[])reader[0]));
        return found;
    }

    /// <summary>One answer of <paramref name="source"/> for the address, in the caller's transaction.</summary>
    private static void Write(SqliteConnection connection, string key, string source, IReadOnlyList<(X509Certificate2 Certificate, IReadOnlyList<X509Certificate2>? Chain)> answer,
        byte[]? capabilities, bool replace, long now)
    {
        if (replace)
        {
            using var forget = connection.CreateCommand();
            forget.CommandText = "DELETE FROM certificates WHERE address = $address AND source = $source";
            forget.Parameters.AddWithValue("$address", key);
            forget.Parameters.AddWithValue("$source", source);
            forget.ExecuteNonQuery();
        }
        foreach (var (certificate, chain) in answer)
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO certificates (address, thumbprint, source, der, capabilities, chain, first_seen, last_seen)
                VALUES ($address, $thumbprint, $source, $der, $capabilities, $chain, $now, $now)
                ON CONFLICT (address, thumbprint, source) DO UPDATE SET last_seen = $now,
                    capabilities = coalesce($capabilities, capabilities), chain = coalesce($chain, chain)
                """;
            insert.Parameters.AddWithValue("$address", key);
            insert.Parameters.AddWithValue("$thumbprint", certificate.Thumbprint);
            insert.Parameters.AddWithValue("$source", source);
            insert.Parameters.AddWithValue("$der", certificate.RawData);
            insert.Parameters.AddWithValue("$capabilities", (object?)capabilities ?? DBNull.Value);
            insert.Parameters.AddWithValue("$chain", chain is { Count: > 0 } ? new X509Certificate2Collection(chain.ToArray()).Export(X509ContentType.Pkcs7)! : DBNull.Value);
            insert.Parameters.AddWithValue("$now", now);
            insert.ExecuteNonQuery();
        }
        using var clear = connection.CreateCommand();
        clear.CommandText = "DELETE FROM negatives WHERE address = $address AND source = $source";
        clear.Parameters.AddWithValue("$address", key);
        clear.Parameters.AddWithValue("$source", source);
        clear.ExecuteNonQuery();
    }

    /// <summary>Records that <paramref name="source"/> had no certificate for the address now.</summary>
    public void RememberNone(string address, string source)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO negatives (address, source, checked) VALUES ($address, $source, $now)
            ON CONFLICT (address, source) DO UPDATE SET checked = $now
            """;
        command.Parameters.AddWithValue("$address", Key(address));
        command.Parameters.AddWithValue("$source", source);
        command.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    /// <summary>When <paramref name="source"/> last said "none" for the address; null when it never did (or said something since).</summary>
    public DateTimeOffset? NoneSince(string address, string source)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT checked FROM negatives WHERE address = $address AND source = $source";
        command.Parameters.AddWithValue("$address", Key(address));
        command.Parameters.AddWithValue("$source", source);
        return command.ExecuteScalar() is long checkedAt ? DateTimeOffset.FromUnixTimeMilliseconds(checkedAt) : null;
    }

    /// <summary>True when <paramref name="source"/> said "none" for the address less than NegativeTtl ago.</summary>
    public bool RecentlyHadNone(string address, string source) =>
        NoneSince(address, source) is { } checkedAt && _time.GetUtcNow() - checkedAt < Settings.NegativeTtl;

    /// <summary>
    /// Certificates remembered for the address whose source matches: directory answers only while
    /// younger than PositiveTtl (then the directory is asked again); <paramref name="maxAge"/> null: no age limit.
    /// </summary>
    public IReadOnlyList<CachedCertificate> Find(string address, Func<string, bool> sourceMatches, TimeSpan? maxAge)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT source, der, capabilities, first_seen, last_seen, chain FROM certificates WHERE address = $address ORDER BY last_seen DESC";
        command.Parameters.AddWithValue("$address", Key(address));
        using var reader = command.ExecuteReader();
        var found = new List<CachedCertificate>();
        var now = _time.GetUtcNow();
        while (reader.Read())
        {
            var source = reader.GetString(0);
            var lastSeen = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4));
            if (!sourceMatches(source) || (maxAge is { } age && now - lastSeen >= age)) continue;
            found.Add(new CachedCertificate(
                X509CertificateLoader.LoadCertificate((byte[])reader[1]), source,
                reader.IsDBNull(2) ? null : (byte[])reader[2],
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)), lastSeen,
                reader.IsDBNull(5) ? [] : Chain((byte[])reader[5])));
        }
        return found;
    }

    /// <summary>
    /// The SMIMECapabilities harvested with this certificate for the address (the latest), whatever
    /// source the certificate is now found in; null when it never came with a signed message.
    /// </summary>
    public byte[]? CapabilitiesOf(string address, string thumbprint)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT capabilities FROM certificates WHERE address = $address AND thumbprint = $thumbprint AND capabilities IS NOT NULL ORDER BY last_seen DESC LIMIT 1";
        command.Parameters.AddWithValue("$address", Key(address));
        command.Parameters.AddWithValue("$thumbprint", thumbprint);
        return command.ExecuteScalar() as byte[];
    }

    /// <summary>Every remembered certificate (for `gateway certs list`).</summary>
    public IReadOnlyList<(string Address, CachedCertificate Certificate)> All()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT address FROM certificates ORDER BY address";
        var addresses = new List<string>();
        using (var reader = command.ExecuteReader())
            while (reader.Read()) addresses.Add(reader.GetString(0));
        return addresses.SelectMany(a => Find(a, _ => true, null).Select(c => (a, c))).ToList();
    }

    private static List<X509Certificate2> Chain(byte[] pkcs7)
    {
        var cms = new System.Security.Cryptography.Pkcs.SignedCms();
        cms.Decode(pkcs7);
        return cms.Certificates.ToList();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Key(string address) => MailAddress.LookupKey(address);
}

/// <summary>One remembered certificate with where it came from and when it was seen.</summary>
public sealed record CachedCertificate(X509Certificate2 Certificate, string Source, byte[]? Capabilities, DateTimeOffset FirstSeen, DateTimeOffset LastSeen,
    IReadOnlyList<X509Certificate2> Chain);
