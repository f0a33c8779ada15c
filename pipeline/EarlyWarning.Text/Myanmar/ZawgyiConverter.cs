using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using EarlyWarning.Text.Internal;

namespace EarlyWarning.Text.Myanmar;

/// <summary>
/// Converts Zawgyi-encoded Burmese to Unicode with ICU's <c>Zawgyi-my</c> transform, called by P/Invoke in the
/// system ICU that .NET's globalisation layer already loaded (found in <c>/proc/self/maps</c>, versioned symbols
/// such as <c>utrans_openU_72</c>). Thread-safe: each thread gets its own ICU transliterator.
/// </summary>
public static unsafe class ZawgyiConverter
{
    private const int UBufferOverflowError = 15;

    private static readonly Lazy<Icu?> LazyIcu = new(Icu.TryLoad);

    [ThreadStatic] private static IntPtr t_trans;

    /// <summary>True when ICU and its Zawgyi-my transform are available in this process.</summary>
    public static bool IsAvailable => LazyIcu.Value is { } icu && GetTransliterator(icu) != IntPtr.Zero;

    /// <summary>Why ICU is not available (null when it is).</summary>
    public static string? UnavailableReason => LazyIcu.Value is null ? Icu.LoadError : IsAvailable ? null : "utrans_openU(\"Zawgyi-my\") failed";

    /// <summary>Path of the ICU i18n library in use, or null.</summary>
    public static string? LibraryPath => LazyIcu.Value?.Path;

    /// <summary>
    /// Converts <paramref name="zawgyi"/> into <paramref name="output"/>. Returns false (and writes nothing) when ICU
    /// is unavailable or the output is too small; <paramref name="written"/> then holds the length needed, if known.
    /// </summary>
    public static bool TryConvert(ReadOnlySpan<char> zawgyi, Span<char> output, out int written)
    {
        written = 0;
        if (LazyIcu.Value is not { } icu) return false;
        var trans = GetTransliterator(icu);
        if (trans == IntPtr.Zero) return false;
        if (zawgyi.Length == 0) return true;
        // ICU transforms in place inside a buffer with spare capacity; Zawgyi-my can lengthen text a little.
        var capacity = zawgyi.Length * 2 + 16;
        var scratch = ThreadScratch.Current;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            char[]? rented = null;
            var buf = ThreadScratch.Get(scratch.Transform, capacity, ref rented);
            try
            {
                zawgyi.CopyTo(buf);
                int len = zawgyi.Length, limit = zawgyi.Length, status = 0;
                fixed (char* p = buf)
                    icu.TransUChars(trans, p, &len, buf.Length, 0, &limit, &status);
                if (status == UBufferOverflowError) { capacity = Math.Max(len, buf.Length * 2) + 16; continue; }
                if (status > 0 || len < 0) return false;
                if (len > output.Length) { written = len; return false; }
                buf.AsSpan(0, len).CopyTo(output);
                written = len;
                return true;
            }
            finally { ThreadScratch.Return(rented); }
        }
        return false;
    }

    /// <summary>Convenience overload (allocates; not for the hot path). Returns the input unchanged if ICU is unavailable.</summary>
    public static string Convert(string zawgyi)
    {
        ArgumentNullException.ThrowIfNull(zawgyi);
        var buf = ArrayPool<char>.Shared.Rent(zawgyi.Length * 3 + 16);
        try
        {
            return TryConvert(zawgyi, buf, out var n) ? new string(buf, 0, n) : zawgyi;
        }
        finally { ArrayPool<char>.Shared.Return(buf); }
    }

    private static IntPtr GetTransliterator(Icu icu)
    {
        if (t_trans != IntPtr.Zero) return t_trans;
        const string id = "Zawgyi-my";
        var parseError = stackalloc byte[128]; // UParseError is 72 bytes
        int status = 0;
        IntPtr trans;
        fixed (char* pid = id)
            trans = icu.OpenU(pid, id.Length, 0 /* UTRANS_FORWARD */, null, 0, parseError, &status);
        if (status > 0 || trans == IntPtr.Zero) return IntPtr.Zero;
        // One per thread for the thread's lifetime (a handful of pipeline threads); never closed while in use.
        t_trans = trans;
        return trans;
    }

    private sealed class Icu
    {
        public static string? LoadError { get; private set; }

        public required string Path { get; init; }
        public required delegate* unmanaged<char*, int, int, char*, int, byte*, int*, IntPtr> OpenU { get; init; }
        public required delegate* unmanaged<IntPtr, char*, int*, int, int, int*, int*, void> TransUChars { get; init; }

        public static Icu? TryLoad()
        {
            // Make sure .NET's globalisation layer has loaded ICU (it does so lazily on first culture-aware call).
            _ = CultureInfo.GetCultureInfo("en-US").CompareInfo.Compare("a", "b");
            foreach (var path in Candidates())
            {
                if (!NativeLibrary.TryLoad(path, out var handle)) continue;
                foreach (var suffix in Suffixes(path))
                {
                    if (NativeLibrary.TryGetExport(handle, "utrans_openU" + suffix, out var open)
                        && NativeLibrary.TryGetExport(handle, "utrans_transUChars" + suffix, out var trans))
                    {
                        return new Icu
                        {
                            Path = path,
                            OpenU = (delegate* unmanaged<char*, int, int, char*, int, byte*, int*, IntPtr>)open,
                            TransUChars = (delegate* unmanaged<IntPtr, char*, int*, int, int, int*, int*, void>)trans,
                        };
                    }
                }
            }
            LoadError = "no loadable libicui18n with utrans_openU found";
            return null;
        }

        private static IEnumerable<string> Candidates()
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            // 1. The copy already mapped into this process (the one .NET uses).
            if (File.Exists("/proc/self/maps"))
            {
                string[] lines;
                try { lines = File.ReadAllLines("/proc/self/maps"); }
                catch (IOException) { lines = []; }
                catch (UnauthorizedAccessException) { lines = []; }
                foreach (var line in lines)
                {
                    var at = line.IndexOf('/', StringComparison.Ordinal);
                    if (at < 0) continue;
                    var file = line[at..].Trim();
                    if (System.IO.Path.GetFileName(file).StartsWith("libicui18n.so", StringComparison.Ordinal) && seen.Add(file))
                        yield return file;
                }
            }
            // 2. Well-known names, newest first.
            for (var v = 80; v >= 50; v--)
            {
                var name = $"libicui18n.so.{v}";
                if (seen.Add(name)) yield return name;
            }
            if (seen.Add("libicui18n.so")) yield return "libicui18n.so";
        }

        private static IEnumerable<string> Suffixes(string path)
        {
            // libicui18n.so.72.1 -> "_72"; then unsuffixed, then a scan for other major versions.
            var name = System.IO.Path.GetFileName(path);
            var rest = name.Length > "libicui18n.so.".Length ? name["libicui18n.so.".Length..] : "";
            var major = rest.Split('.')[0];
            if (major.Length > 0 && major.All(char.IsAsciiDigit)) yield return "_" + major;
            yield return "";
            for (var v = 80; v >= 50; v--) yield return "_" + v.ToString(CultureInfo.InvariantCulture);
        }
    }
}
