using System.Net.Sockets;

namespace Gateway.Testing.Peers;

/// <summary>
/// A private Postfix instance (config, queue, data and log under one temp dir) that listens on
/// 127.0.0.1:port and relays everything to one next hop. Built exactly like mkpf in docs/peers.md.
/// </summary>
public sealed class PostfixInstance : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);

    private PostfixInstance(string root, int listenPort)
    {
        RootDirectory = root;
        ListenPort = listenPort;
    }

    public string RootDirectory { get; }

    public string ConfigDirectory => Path.Combine(RootDirectory, "conf");

    public string MaillogPath => Path.Combine(RootDirectory, "maillog");

    public int ListenPort { get; }

    /// <summary>
    /// Creates, checks and starts the instance, returning once the port accepts connections.
    /// <paramref name="extraMainCf"/> are more "name = value" settings, applied last.
    /// </summary>
    public static async Task<PostfixInstance> StartAsync(int listenPort, string relayHost, int relayPort,
        IEnumerable<string>? extraMainCf = null, CancellationToken cancellationToken = default)
    {
        var root = Directory.CreateTempSubdirectory("gw-postfix-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            // The postfix user must traverse to its queue; temp dirs are created 0700.
            File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        }

        var instance = new PostfixInstance(root, listenPort);
        try
        {
            await instance.ConfigureAsync(relayHost, relayPort, extraMainCf ?? [], cancellationToken).ConfigureAwait(false);
            await instance.PostfixAsync("start", cancellationToken).ConfigureAwait(false);
            await instance.WaitUntilListeningAsync(cancellationToken).ConfigureAwait(false);
            return instance;
        }
        catch
        {
            await instance.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<string> MaillogAsync(CancellationToken cancellationToken = default) =>
        File.Exists(MaillogPath) ? await File.ReadAllTextAsync(MaillogPath, cancellationToken).ConfigureAwait(false) : string.Empty;

    /// <summary>
    /// The maillog once it matches <paramref name="pattern"/>, or as it is after <paramref name="timeout"/>
    /// (10 s) for the caller's assertions to report: Postfix logs a session's end after its client has
    /// gone, so a log read right after the client quit can come before that line.
    /// </summary>
    public async Task<string> WaitForMaillogAsync(string pattern, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var log = await MaillogAsync(cancellationToken).ConfigureAwait(false);
            if (System.Text.RegularExpressions.Regex.IsMatch(log, pattern) || DateTime.UtcNow >= deadline) return log;
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>postqueue -f: retry deferred mail now (e.g. after a fault-injecting sink recovers).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default) =>
        (await ToolProcess.RunAsync("postqueue", ["-c", ConfigDirectory, "-f"], cancellationToken: cancellationToken)
            .ConfigureAwait(false)).EnsureSuccess();

    /// <summary>postqueue -p output ("Mail queue is empty" when nothing waits).</summary>
    public async Task<string> QueueAsync(CancellationToken cancellationToken = default) =>
        (await ToolProcess.RunAsync("postqueue", ["-c", ConfigDirectory, "-p"], cancellationToken: cancellationToken)
            .ConfigureAwait(false)).EnsureSuccess().Stdout;

    /// <summary>Changes main.cf settings ("name = value") and reloads the running instance.</summary>
    public async Task ReconfigureAsync(IEnumerable<string> mainCfSettings, CancellationToken cancellationToken = default)
    {
        await PostconfAsync(["-e", .. mainCfSettings], cancellationToken).ConfigureAwait(false);
        await PostfixAsync("reload", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the instance, waits for its master to exit, deletes the directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (File.Exists(MasterPidPath))
        {
            await ToolProcess.RunAsync("postfix", ["-c", ConfigDirectory, "stop"], timeout: TimeSpan.FromSeconds(30))
                .ConfigureAwait(false);
            await WaitForMasterExitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        }

        try
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A daemon still closing its files; the folder is under /tmp.
        }
    }

    private async Task ConfigureAsync(string relayHost, int relayPort, IEnumerable<string> extraMainCf,
        CancellationToken cancellationToken)
    {
        foreach (var sub in new[] { "conf", "queue", "data" })
        {
            Directory.CreateDirectory(Path.Combine(RootDirectory, sub));
        }

        File.Copy(RequireMasterCf(), Path.Combine(ConfigDirectory, "master.cf"));
        await File.WriteAllTextAsync(Path.Combine(ConfigDirectory, "main.cf"), string.Empty, cancellationToken)
            .ConfigureAwait(false);
        var port = ListenPort;
        await PostconfAsync(
        [
            "-e", "compatibility_level = 3.6",
            $"queue_directory = {RootDirectory}/queue", $"data_directory = {RootDirectory}/data",
            // maillog_file must match a prefix or postfix refuses to start, silently.
            $"maillog_file_prefixes = /var, /dev/stdout, {RootDirectory}", $"maillog_file = {MaillogPath}",
            $"myhostname = mx-{port}.example.test", "mydomain = example.test", "mydestination =",
            "inet_interfaces = loopback-only", "inet_protocols = ipv4", "mynetworks = 127.0.0.0/8",
            "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
            $"relayhost = [{relayHost}]:{relayPort}",
            "smtp_dns_support_level = disabled", "smtp_host_lookup = native",
            "alias_maps =", "alias_database =", "local_transport = error:local delivery disabled",
            "message_size_limit = 52428800", $"multi_instance_name = postfix-{port}",
            .. extraMainCf,
        ], cancellationToken).ConfigureAwait(false);
        await PostconfAsync(["-M#", "smtp/inet"], cancellationToken).ConfigureAwait(false);
        await PostconfAsync(["-M", $"127.0.0.1:{port}/inet = 127.0.0.1:{port} inet n - n - - smtpd"], cancellationToken)
            .ConfigureAwait(false);

        // Debian's master.cf chroots services, which breaks without the init script's copies of /etc.
        await PostconfAsync(["-F", "*/*/chroot = n"], cancellationToken).ConfigureAwait(false);
        await PostfixAsync("set-permissions", cancellationToken).ConfigureAwait(false);
        await PostfixAsync("check", cancellationToken).ConfigureAwait(false);
    }

    private static string RequireMasterCf()
    {
        const string path = "/etc/postfix/master.cf";
        ToolProcess.Require("postfix");
        return File.Exists(path) ? path : throw new MissingToolException("postfix", ["/etc/postfix/master.cf"]);
    }

    private async Task PostconfAsync(string[] arguments, CancellationToken cancellationToken) =>
        (await ToolProcess.RunAsync("postconf", ["-c", ConfigDirectory, .. arguments],
            cancellationToken: cancellationToken).ConfigureAwait(false)).EnsureSuccess();

    private async Task PostfixAsync(string command, CancellationToken cancellationToken)
    {
        var result = await ToolProcess.RunAsync("postfix", ["-c", ConfigDirectory, command],
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"postfix {command} failed with exit code {result.ExitCode}.\n{await DiagnoseAsync().ConfigureAwait(false)}");
        }
    }

    private async Task WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", ListenPort, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new TimeoutException(
            $"Postfix on 127.0.0.1:{ListenPort} not listening after {ReadyTimeout}.\n{await DiagnoseAsync().ConfigureAwait(false)}");
    }

    /// <summary>
    /// Postfix prints its errors only to a tty or syslog, neither of which exists here; running
    /// check under script(1) gives it a tty, and the maillog tail shows what the daemons said.
    /// </summary>
    private async Task<string> DiagnoseAsync()
    {
        var check = await ToolProcess.RunAsync("script", ["-qec", $"postfix -c '{ConfigDirectory}' check", "/dev/null"],
            timeout: TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        var maillog = (await MaillogAsync().ConfigureAwait(false)).Split('\n').TakeLast(40);
        return $"postfix check (via script):\n{check.Stdout}{check.Stderr}\nmaillog tail:\n{string.Join('\n', maillog)}";
    }

    private string MasterPidPath => Path.Combine(RootDirectory, "queue", "pid", "master.pid");

    /// <summary>
    /// The master holds an exclusive flock on master.pid for its whole life, and .NET takes a
    /// shared flock when opening a file, so the open fails exactly while the master is alive.
    /// (The same lock keeps us from reading the PID out of it.)
    /// </summary>
    private async Task WaitForMasterExitAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var probe = new FileStream(MasterPidPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                return;
            }
            catch (FileNotFoundException)
            {
                return;
            }
            catch (IOException)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
    }
}
