using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gateway.Testing.Peers;

/// <summary>
/// A private OpenLDAP slapd (mdb database and config under one temp dir) on 127.0.0.1:port with
/// suffix dc=example,dc=test and people under ou=people, built like docs/peers.md §4. It can be
/// stopped and started again on the same port, to play a directory that goes down and comes back.
/// With <see cref="SlapdTls"/> it also offers StartTLS on that port and listens for ldaps:// on
/// <see cref="TlsPort"/>.
/// </summary>
public sealed class SlapdInstance : IAsyncDisposable
{
    public const string Suffix = "dc=example,dc=test";
    public const string People = "ou=people," + Suffix;
    public const string AdminDn = "cn=admin," + Suffix;
    public const string AdminPassword = "secret";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);

    private Process? _process;
    private readonly StringBuilder _log = new();

    private readonly SlapdTls? _tls;

    private SlapdInstance(string root, int port, SlapdTls? tls)
    {
        RootDirectory = root;
        Port = port;
        _tls = tls;
        TlsPort = tls is null ? 0 : FreePort.Next();
    }

    public string RootDirectory { get; }
    public int Port { get; }
    public string Url => $"ldap://127.0.0.1:{Port}";
    public int TlsPort { get; }
    public string LdapsUrl => $"ldaps://127.0.0.1:{TlsPort}";
    public string ConfigPath => Path.Combine(RootDirectory, "slapd.conf");

    public static async Task<SlapdInstance> StartAsync(CancellationToken cancellationToken = default) => await StartAsync(null, cancellationToken).ConfigureAwait(false);

    public static async Task<SlapdInstance> StartAsync(SlapdTls? tls, CancellationToken cancellationToken = default)
    {
        var instance = new SlapdInstance(Directory.CreateTempSubdirectory("gw-slapd-").FullName, FreePort.Next(), tls);
        try
        {
            Directory.CreateDirectory(Path.Combine(instance.RootDirectory, "db"));
            await File.WriteAllTextAsync(instance.ConfigPath, instance.Config(), cancellationToken).ConfigureAwait(false);
            await instance.StartAgainAsync(cancellationToken).ConfigureAwait(false);
            await instance.AddAsync(
                $"dn: {Suffix}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example Test\n\n" +
                $"dn: {People}\nobjectClass: organizationalUnit\nou: people\n", cancellationToken).ConfigureAwait(false);
            return instance;
        }
        catch
        {
            await instance.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>An inetOrgPerson with a mail address and, as given, userCertificate;binary (DER) and userSMIMECertificate (PKCS#7) values.</summary>
    public Task AddPersonAsync(string uid, string mail, IEnumerable<X509Certificate2>? userCertificates = null,
        byte[]? userSmimeCertificate = null, CancellationToken cancellationToken = default)
    {
        var ldif = new StringBuilder()
            .Append($"dn: uid={uid},{People}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\nmail: {mail}\n");
        foreach (var certificate in userCertificates ?? [])
            ldif.Append($"userCertificate;binary:: {Convert.ToBase64String(certificate.RawData)}\n");
        if (userSmimeCertificate is not null)
            ldif.Append($"userSMIMECertificate:: {Convert.ToBase64String(userSmimeCertificate)}\n");
        return AddAsync(ldif.ToString(), cancellationToken);
    }

    public async Task AddAsync(string ldif, CancellationToken cancellationToken = default) =>
        (await ToolProcess.RunAsync("ldapadd", ["-x", "-H", Url, "-D", AdminDn, "-w", AdminPassword],
            stdin: Encoding.UTF8.GetBytes(ldif), cancellationToken: cancellationToken).ConfigureAwait(false)).EnsureSuccess();

    /// <summary>Starts slapd in the foreground (so its PID is ours) and waits until it answers a root DSE search.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(ToolProcess.Require("slapd"))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var listeners = _tls is null ? $"{Url}/" : $"{Url}/ {LdapsUrl}/";
        foreach (var argument in new[] { "-d", "0", "-h", listeners, "-f", ConfigPath }) startInfo.ArgumentList.Add(argument);
        _process = Process.Start(startInfo) ?? throw new InvalidOperationException("slapd did not start");
        _process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();

        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"slapd exited with {_process.ExitCode}:\n{Log}");
            // As the admin: a directory may refuse anonymous binds.
            var probe = await ToolProcess.RunAsync("ldapsearch", ["-x", "-H", Url, "-D", AdminDn, "-w", AdminPassword, "-b", "", "-s", "base"],
                timeout: TimeSpan.FromSeconds(10), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (probe.ExitCode == 0) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"slapd on {Url} did not answer within {ReadyTimeout}:\n{Log}");
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops slapd (SIGINT, as its docs say) and waits until the process is gone and the port is free.</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            await ToolProcess.RunAsync("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).ConfigureAwait(false);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        _process.Dispose();
        _process = null;
        // The listening socket closes with the process; a connect now must be refused.
        for (var i = 0; i < 100 && Listening(); i++) await Task.Delay(50).ConfigureAwait(false);
    }

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
        catch (IOException)
        {
            // The folder is under /tmp.
        }
    }

    private bool Listening()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private string Config() => $"""
        include /etc/ldap/schema/core.schema
        include /etc/ldap/schema/cosine.schema
        include /etc/ldap/schema/inetorgperson.schema
        modulepath /usr/lib/ldap
        moduleload back_mdb
        pidfile {RootDirectory}/slapd.pid
        argsfile {RootDirectory}/slapd.args
        loglevel none
        {(_tls is null ? "" : $"TLSCertificateFile {_tls.CertificatePath}\nTLSCertificateKeyFile {_tls.KeyPath}\n{string.Join("\n", _tls.GlobalConfig)}")}
        database mdb
        maxsize 268435456
        suffix "{Suffix}"
        rootdn "{AdminDn}"
        rootpw {AdminPassword}
        directory {RootDirectory}/db
        index objectClass eq
        index mail eq
        access to * by * read

        """;
}

/// <summary>
/// The server certificate and key (PEM files) slapd presents for StartTLS and ldaps://, and more
/// global slapd.conf lines (e.g. "disallow bind_anon").
/// </summary>
public sealed record SlapdTls(string CertificatePath, string KeyPath, params string[] GlobalConfig);
