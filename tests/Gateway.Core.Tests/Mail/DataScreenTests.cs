using System.Text;
using Gateway.Mail;
using Gateway.Outcomes;
using Gateway.Testing;

namespace Gateway.Tests.Mail;

/// <summary>
/// The bare CR / bare LF screen finds the same line ends whatever the segments the data arrives
/// in, including a CR LF split between two of them.
/// </summary>
public sealed class DataScreenTests
{
    private static readonly DataScreenLimits Limits = new(RejectBareLineFeed: true, MaxHeaderSize: int.MaxValue, MaxHops: 100, MaxLoopMarkers: 10, ServerName: "gw.example.test");

    [Theory]
    [InlineData("Subject: a\r\n\r\nbody\r\nmore", null)]
    [InlineData("Subject: a\r\n\r\nbody\nmore", FailureKind.BareLineFeed)]
    [InlineData("Subject: a\r\n\r\nbody\rmore", FailureKind.BareCarriageReturn)]
    [InlineData("Subject: a\r\n\r\nbody ends in CR\r", FailureKind.BareCarriageReturn)]
    [InlineData("Subject: a\r\n\r\n\r\r\n", FailureKind.BareCarriageReturn)]
    [InlineData("Subject: a\n\r\n\rx", FailureKind.BareCarriageReturn)] // a bare CR wins over an earlier bare LF
    [InlineData("\nSubject: a\r\n", FailureKind.BareLineFeed)]
    public void FindsBareLineEnds(string message, FailureKind? expected)
    {
        var bytes = Encoding.ASCII.GetBytes(message);
        Assert.Equal(expected, DataScreen.Check(SegmentedSequence.Of(bytes), Limits));
        // Every way of cutting it in two, so each line end also straddles a segment boundary once.
        for (var cut = 1; cut < bytes.Length; cut++)
            Assert.Equal(expected, DataScreen.Check(SegmentedSequence.Of(bytes.AsMemory(0, cut), bytes.AsMemory(cut)), Limits));
    }

    [Fact]
    public void AgreesWithAByteAtATimeScan_OnRandomLineEndsInRandomSegments()
    {
        var random = new Random(20261127);
        for (var round = 0; round < 3000; round++)
        {
            var bytes = new byte[random.Next(1, 300)];
            for (var i = 0; i < bytes.Length; i++) bytes[i] = "ab\r\n"u8[random.Next(4)];
            var expected = ByteAtATime(bytes) switch
            {
                '\r' => FailureKind.BareCarriageReturn,
                '\n' => FailureKind.BareLineFeed,
                _ => (FailureKind?)null,
            };
            Assert.Equal(expected, DataScreen.Check(SegmentedSequence.Cut(bytes, random, longest: 8), Limits));
        }
    }

    /// <summary>The definition: a CR not followed by LF (the end counts), an LF not preceded by CR.</summary>
    private static char? ByteAtATime(byte[] data)
    {
        char? found = null;
        for (var i = 0; i < data.Length; i++)
        {
            if (data[i] == (byte)'\r' && (i + 1 == data.Length || data[i + 1] != (byte)'\n')) return '\r';
            if (data[i] == (byte)'\n' && (i == 0 || data[i - 1] != (byte)'\r')) found ??= '\n';
        }
        return found;
    }
}
