using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Policy;
using Gateway.Smime;
using Microsoft.IO;

// CPU time per SmimeTransformer.Transform call on a 10 KB multipart/alternative message, after a warm-up.
// Usage: smime-micro PKI_DIR [iterations per round] [rounds] [scenario...]
//   PKI_DIR from bench/make-bench-pki.sh; scenarios: sign+encrypt sign encrypt opaque (default: sign+encrypt sign)
// Prints, per scenario, the median over rounds of CPU-µs per op (Process.TotalProcessorTime), wall-µs and bytes allocated per op.
var pki = args.Length > 0 ? args[0] : throw new ArgumentException("usage: smime-micro PKI_DIR [iterations] [rounds] [scenario...]");
var iterations = args.Length > 1 && args[1] != "--dump" ? int.Parse(args[1]) : 2000;
var rounds = args.Length > 2 && args[1] != "--dump" ? int.Parse(args[2]) : 5;
var scenarios = args.Length > 3 ? args[3..] : ["sign+encrypt", "sign"];

// "--dump DIR" instead of the iteration count: writes one output per scenario to DIR (SCENARIO.eml), for openssl/gpgsm checks.
string? dump = args.Length > 2 && args[1] == "--dump" ? args[2] : null;
if (dump is not null) (iterations, rounds, scenarios) = (1, 0, args.Length > 3 ? args[3..] : ["sign+encrypt", "sign", "encrypt", "opaque"]);

var signer = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(pki, "alice@example.test.p12"), "bench", X509KeyStorageFlags.EphemeralKeySet);
var recipient = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(pki, "bob@partner.test.crt"));
var message = Message.Build();
Console.WriteLine($"message {message.Length} bytes, {iterations} ops x {rounds} rounds, after {iterations} warm-up ops");

// The pool the gateway's CopyBuffers uses, with the same settings.
var pool = new RecyclableMemoryStreamManager(new RecyclableMemoryStreamManager.Options
{
    BlockSize = 32 * 1024, LargeBufferMultiple = 1024 * 1024, MaximumBufferSize = 8 * 1024 * 1024,
    MaximumSmallPoolFreeBytes = 0, MaximumLargePoolFreeBytes = 0, ZeroOutBuffer = true,
});
var now = dump is null ? DateTimeOffset.UtcNow : new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero); // a fixed signing time makes dumps comparable

foreach (var scenario in scenarios)
{
    var (sign, encrypt, crypto) = scenario switch
    {
        "sign+encrypt" => (true, true, CryptoSettings.Default),
        "sign" => (true, false, CryptoSettings.Default),
        "encrypt" => (false, true, CryptoSettings.Default),
        "opaque" => (true, true, CryptoSettings.Default with { SignatureForm = SignatureForm.Opaque }),
        _ => throw new ArgumentException($"unknown scenario {scenario}"),
    };
    var request = new SmimeRequest(sign ? signer : null, sign ? [signer] : [], encrypt ? [recipient] : [], crypto)
    {
        Scratch = _ => pool.GetStream("scratch"),
    };
    void One()
    {
        // As CopyDelivery: the original is a file stream in the gateway; a read-only MemoryStream here, the copy pooled.
        using var original = new MemoryStream(message, writable: false);
        using var output = pool.GetStream("copy");
        SmimeTransformer.Transform(original, request, output, now, CancellationToken.None);
    }
    if (dump is not null)
    {
        using var original = new MemoryStream(message, writable: false);
        using var file = File.Create(Path.Combine(dump, scenario + ".eml"));
        SmimeTransformer.Transform(original, request, file, now, CancellationToken.None);
        continue;
    }
    for (var i = 0; i < iterations; i++) One();
    var cpu = new List<double>(); var wall = new List<double>(); var alloc = new List<double>();
    var process = Process.GetCurrentProcess();
    for (var r = 0; r < rounds; r++)
    {
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime; var a0 = GC.GetTotalAllocatedBytes(precise: true); var sw = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++) One();
        sw.Stop(); process.Refresh();
        cpu.Add((process.TotalProcessorTime - cpu0).TotalMicroseconds / iterations);
        wall.Add(sw.Elapsed.TotalMicroseconds / iterations);
        alloc.Add((GC.GetTotalAllocatedBytes(precise: true) - a0) / (double)iterations);
    }
    static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }
    Console.WriteLine($"{scenario,-13} cpu {Median(cpu),7:F1} µs/op  (rounds {string.Join(" ", cpu.Select(c => c.ToString("F0")))})  wall {Median(wall),7:F1} µs/op  alloc {Median(alloc) / 1024,6:F1} KiB/op");
}

/// <summary>A typical 10 KB business mail as received over SMTP (CRLF): text and HTML alternatives, 8-bit UTF-8 text.</summary>
internal static class Message
{
    public static byte[] Build()
    {
        var text = new StringBuilder();
        var html = new StringBuilder("<html><head><meta charset=\"utf-8\"></head><body>\r\n");
        for (var i = 0; text.Length < 3700; i++)
        {
            var line = $"Paragraph {i}: the quarterly figures for Köln and München are attached; please review them before Friday's meeting.";
            text.Append(line).Append("\r\n");
            html.Append("<p style=\"font-family:Calibri,sans-serif;font-size:11pt\">").Append(line).Append("</p>\r\n");
        }
        text.Append("\r\n-- \r\nAlice Example\r\nExample Corp\r\n");
        html.Append("</body></html>\r\n");
        var headers = """
            Received: from client.example.test (client.example.test [192.0.2.10])
            	by mx.example.test (Gateway) with ESMTPS id 4F2A1B3C
            	for <bob@partner.test>; Fri, 14 Mar 2025 09:26:53 +0000
            From: Alice Example <alice@example.test>
            To: Bob Partner <bob@partner.test>
            Subject: Quarterly figures
            Date: Fri, 14 Mar 2025 09:26:53 +0000
            Message-ID: <bench-1@example.test>
            MIME-Version: 1.0
            Content-Type: multipart/alternative; boundary="=_alt_boundary_42"
            """.ReplaceLineEndings("\r\n");
        var body = $"{headers}\r\n\r\n--=_alt_boundary_42\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n" +
                   $"--=_alt_boundary_42\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n--=_alt_boundary_42--\r\n";
        return Encoding.UTF8.GetBytes(body);
    }
}
