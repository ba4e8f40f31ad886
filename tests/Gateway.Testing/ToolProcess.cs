using System.Diagnostics;
using System.Text;

namespace Gateway.Testing;

/// <summary>Runs peer tools (openssl, gpgsm, postfix, swaks, …) as plain processes.</summary>
public static class ToolProcess
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    // Daemons started by a tool (postfix master, gpg-agent) may inherit our pipes and keep
    // them open after the tool itself exits; we stop waiting for EOF after this grace.
    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(3);

    // Debian keeps postfix, slapd and friends in sbin, which a non-login PATH may lack.
    private static readonly string[] ExtraDirectories = ["/usr/sbin", "/sbin", "/usr/local/sbin"];

    /// <summary>Full path of <paramref name="tool"/>, or a <see cref="MissingToolException"/> naming its Debian package.</summary>
    public static string Require(string tool)
    {
        if (Path.IsPathRooted(tool))
        {
            return File.Exists(tool) ? tool : throw new MissingToolException(Path.GetFileName(tool), [Path.GetDirectoryName(tool) ?? "/"]);
        }

        var directories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(ExtraDirectories)
            .Distinct()
            .ToList();
        foreach (var directory in directories)
        {
            var candidate = Path.Combine(directory, tool);
            if (File.Exists(candidate) && IsExecutable(candidate))
            {
                return candidate;
            }
        }

        throw new MissingToolException(tool, directories);
    }

    private static bool IsExecutable(string path) =>
        OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0;

    /// <summary>
    /// Runs <paramref name="tool"/> with an argument list (no shell). Environment values of null
    /// remove the variable. On timeout the whole process tree is killed and a <see cref="TimeoutException"/> thrown.
    /// </summary>
    public static async Task<ToolResult> RunAsync(
        string tool,
        IEnumerable<string> arguments,
        byte[]? stdin = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(Require(tool))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        var commandLine = string.Join(' ', new[] { tool }.Concat(startInfo.ArgumentList));
        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"Could not start '{commandLine}'.");
        var stdout = new PipeCollector(process.StandardOutput.BaseStream);
        var stderr = new PipeCollector(process.StandardError.BaseStream);
        var feed = FeedStdinAsync(process, stdin);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? DefaultTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException(
                $"'{commandLine}' did not finish within {timeout ?? DefaultTimeout}; killed.\nstderr so far:\n{stderr.Text()}");
        }

        await Task.WhenAll(stdout.Completion, stderr.Completion, feed)
            .WaitAsync(OutputGrace, CancellationToken.None)
            .ContinueWith(_ => { }, TaskScheduler.Default)
            .ConfigureAwait(false);
        return new ToolResult(commandLine, process.ExitCode, stdout.Bytes(), stderr.Text());
    }

    private static async Task FeedStdinAsync(Process process, byte[]? stdin)
    {
        try
        {
            if (stdin is { Length: > 0 })
            {
                await process.StandardInput.BaseStream.WriteAsync(stdin).ConfigureAwait(false);
            }

            // Closing stdin tells the tool there is no more input (and no terminal to prompt on).
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The tool exited without reading all its input; its exit code tells the story.
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <summary>Drains a pipe into memory; readable while still running.</summary>
    private sealed class PipeCollector
    {
        private readonly MemoryStream _buffer = new();

        public PipeCollector(Stream pipe) => Completion = Task.Run(() => DrainAsync(pipe));

        public Task Completion { get; }

        public byte[] Bytes()
        {
            lock (_buffer)
            {
                return _buffer.ToArray();
            }
        }

        public string Text() => Encoding.UTF8.GetString(Bytes());

        private async Task DrainAsync(Stream pipe)
        {
            var chunk = new byte[81920];
            int read;
            while ((read = await pipe.ReadAsync(chunk).ConfigureAwait(false)) > 0)
            {
                lock (_buffer)
                {
                    _buffer.Write(chunk, 0, read);
                }
            }
        }
    }
}
