using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;
using Gateway.Relay;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Relay;

/// <summary>
/// Relay:Timeout bounds every wait for the upstream, as the README says: the session applies it
/// through its stream's timeouts, which .NET's NetworkStream ignores for asynchronous calls.
/// </summary>
public sealed class UpstreamTimeoutTests
{
    [Fact]
    public async Task AnUpstreamThatGreetsThenGoesSilent_FailsTheConnectionWithinRelayTimeout()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = Task.Run(async () =>
        {
            var client = await listener.AcceptTcpClientAsync();
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes("220 silent.test ESMTP\r\n"));
            return client; // and never answers EHLO
        });
        using var pool = new UpstreamPool(new RelayOptions
        {
            Host = "127.0.0.1",
            Port = ((IPEndPoint)listener.LocalEndpoint).Port,
            TlsMode = RelayTlsMode.None,
            Timeout = TimeSpan.FromSeconds(1),
            MaxConnections = 1,
            MaxMessagesPerConnection = 1,
        }, "gateway.test", TimeProvider.System, NullLogger.Instance);

        var clock = Stopwatch.StartNew();
        var failure = await Record.ExceptionAsync(() => pool.RentAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(8)));
        clock.Stop();
        listener.Stop();
        (await accepted).Dispose();

        // An IOException: the relay's temporary failure (451 4.4.1), not a TimeoutException nobody handles.
        var io = Assert.IsType<IOException>(failure);
        Assert.Contains("did not answer within 1000 ms", io.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AReadThatGetsNoAnswer_EndsAfterReadTimeout_AndACallersCancellationStaysACancellation()
    {
        using var stream = new CoalescingStream(new SilentStream()) { ReadTimeout = 200 };
        var timedOut = await Assert.ThrowsAsync<IOException>(async () => _ = await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.IsType<TimeoutException>(timedOut.InnerException);

        using var cancel = new CancellationTokenSource(100);
        using var patient = new CoalescingStream(new SilentStream()) { ReadTimeout = 60_000 };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => _ = await patient.ReadAsync(new byte[16], cancel.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>A connection on which nothing ever arrives.</summary>
    private sealed class SilentStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override bool CanTimeout => true;
        public override int ReadTimeout { get; set; } = Timeout.Infinite;
        public override int WriteTimeout { get; set; } = Timeout.Infinite;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) { }
        public override void Flush() { }
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
