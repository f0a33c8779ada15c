using System.Diagnostics;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.EndToEnd;

/// <summary>The reference: Core's <see cref="PostDecoder"/> over every line of the same file, nothing else.</summary>
internal static class DecodeOnly
{
    public readonly record struct Result(long Posts, long Bad, double Seconds, double CpuSeconds)
    {
        public double PostsPerSecond => Posts / Seconds;
        public double PostsPerCpuSecond => CpuSeconds > 0 ? Posts / CpuSeconds : 0;
    }

    public static Result Run(string path)
    {
        var decoder = new PostDecoder();
        var buf = new byte[1 << 20];
        long ok = 0, bad = 0;
        using var self = Process.GetCurrentProcess();
        var cpu0 = self.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var filled = 0;
        while (true)
        {
            if (filled == buf.Length) Array.Resize(ref buf, buf.Length * 2); // a line longer than the buffer
            var n = fs.Read(buf, filled, buf.Length - filled);
            var end = filled + n;
            var start = 0;
            for (int i; (i = Array.IndexOf(buf, (byte)'\n', start, end - start)) >= 0; start = i + 1)
            {
                if (i == start) continue;
                if (decoder.TryDecode(buf.AsMemory(start, i - start), out _, out _)) ok++; else bad++;
            }
            if (n == 0)
            {
                if (end > start) { if (decoder.TryDecode(buf.AsMemory(start, end - start), out _, out _)) ok++; else bad++; }
                break;
            }
            filled = end - start;
            Buffer.BlockCopy(buf, start, buf, 0, filled);
        }
        var seconds = sw.Elapsed.TotalSeconds;
        self.Refresh();
        return new Result(ok + bad, bad, seconds, (self.TotalProcessorTime - cpu0).TotalSeconds);
    }
}
