using System.Text;

namespace EarlyWarning.App.Tests.Safeguards;

[Collection(SimulatorRunCollection.Name)]
public sealed class PrivacyScanTests(SimulatorRunFixture run)
{
    /// <summary>
    /// Splits the bytes into runs of identifier characters ([A-Za-z0-9_:]) and checks each against the input's raw
    /// account ids and handles; a run also matches when it contains a raw id "u:N" with digit boundaries.
    /// </summary>
    private static List<string> Leaks(byte[] bytes, HashSet<string> ids, HashSet<string> handles)
    {
        var leaks = new List<string>();
        var i = 0;
        while (i < bytes.Length)
        {
            if (!IsIdChar(bytes[i])) { i++; continue; }
            var start = i;
            while (i < bytes.Length && IsIdChar(bytes[i])) i++;
            var token = Encoding.ASCII.GetString(bytes, start, i - start);
            if (handles.Contains(token) || ids.Contains(token)) { leaks.Add(token); continue; }
            for (var k = token.IndexOf("u:", StringComparison.Ordinal); k >= 0; k = token.IndexOf("u:", k + 1, StringComparison.Ordinal))
            {
                var e = k + 2;
                while (e < token.Length && char.IsAsciiDigit(token[e])) e++;
                if (e > k + 2 && (k == 0 || !char.IsAsciiDigit(token[k - 1])) && ids.Contains(token[k..e])) leaks.Add(token[k..e]);
            }
        }
        return leaks;
    }

    private static bool IsIdChar(byte b) => b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'_' or (byte)':';

    [Fact]
    public void No_raw_account_id_or_handle_is_anywhere_in_the_store_file()
    {
        Assert.True(run.ExitCode == 0, run.Log);
        Assert.True(run.RawIds.Count > 1000, $"only {run.RawIds.Count} raw ids collected");
        Assert.True(run.RawHandles.Count > 1000, $"only {run.RawHandles.Count} raw handles collected");
        var files = new[] { run.Db, run.Db + "-wal", run.Db + "-journal" }.Where(File.Exists).ToList();
        Assert.Contains(run.Db, files);
        long scanned = 0;
        foreach (var f in files)
        {
            var bytes = File.ReadAllBytes(f);
            scanned += bytes.Length;
            var leaks = Leaks(bytes, run.RawIds, run.RawHandles);
            Assert.True(leaks.Count == 0,
                $"{Path.GetFileName(f)}: {leaks.Count} raw identifiers, e.g. {string.Join(", ", leaks.Distinct().Take(5))}");
        }
        Assert.True(scanned > 1_000_000, $"scanned only {scanned} bytes");
    }

    [Fact]
    public void The_scanner_finds_an_identifier_when_one_is_there()
    {
        // The check above can fail: the same scanner over bytes holding a raw id and a handle reports both.
        var id = run.RawIds.First(x => x.StartsWith("u:", StringComparison.Ordinal));
        var handle = run.RawHandles.First();
        var bytes = Encoding.UTF8.GetBytes($"{{\"author\":{{\"id\":\"{id}\",\"handle\":\"{handle}\"}}}} x{id}y");
        var leaks = Leaks(bytes, run.RawIds, run.RawHandles);
        Assert.Equal(3, leaks.Count);
        Assert.Empty(Leaks(Encoding.UTF8.GetBytes("p_" + handle + " 9" + id), run.RawIds, run.RawHandles));
    }
}
