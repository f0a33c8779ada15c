using System.Reflection;
using System.Runtime.InteropServices;

namespace EarlyWarning.Kafka.Mock;

/// <summary>
/// P/Invoke into the very librdkafka copy Confluent.Kafka loaded (it ships several builds and picks one at run time):
/// the import resolver maps "librdkafka" to the file found in this process's memory map after Confluent initialised.
/// </summary>
internal static partial class LibRdKafka
{
    private const string Lib = "librdkafka";
    private static readonly Lazy<string?> LoadedFile = new(FindLoadedFile);

    static LibRdKafka()
    {
        NativeLibrary.SetDllImportResolver(typeof(LibRdKafka).Assembly, Resolve);
    }

    /// <summary>Makes sure Confluent.Kafka loaded librdkafka, then returns the path of the mapped file (null off Linux).</summary>
    public static string? LoadedPath => LoadedFile.Value;

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Lib) return IntPtr.Zero;
        var path = LoadedFile.Value;
        // dlopen of an already-mapped file returns the existing handle: the same copy, the same globals.
        return path is not null ? NativeLibrary.Load(path) : IntPtr.Zero;
    }

    private static string? FindLoadedFile()
    {
        // Forces Confluent.Kafka to pick and load its native library.
        _ = Confluent.Kafka.Library.Version;
        if (!OperatingSystem.IsLinux()) return null;
        var candidates = File.ReadLines("/proc/self/maps")
            .Select(l => { var i = l.IndexOf('/', StringComparison.Ordinal); return i < 0 ? null : l[i..].Trim(); })
            .Where(p => p is not null && Path.GetFileName(p).Contains("librdkafka", StringComparison.Ordinal)
                        && !Path.GetFileName(p).Contains("librdkafkacpp", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (candidates.Count == 0) throw new InvalidOperationException("Confluent.Kafka reports librdkafka loaded, but no librdkafka file is mapped");
        // Prefer the copy shipped beside Confluent.Kafka (another copy, e.g. Debian's, may be mapped by someone else).
        var confluentDir = Path.GetDirectoryName(typeof(Confluent.Kafka.Library).Assembly.Location) ?? string.Empty;
        return candidates.FirstOrDefault(p => p!.StartsWith(confluentDir, StringComparison.Ordinal)) ?? candidates[0];
    }

    public const int RdKafkaProducer = 0;

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_new")]
    public static partial IntPtr ConfNew();

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_set", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ConfSet(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_destroy")]
    public static partial void ConfDestroy(IntPtr conf);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_new")]
    public static partial IntPtr New(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_destroy")]
    public static partial void Destroy(IntPtr rk);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_new")]
    public static partial IntPtr MockClusterNew(IntPtr rk, int brokerCount);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_destroy")]
    public static partial void MockClusterDestroy(IntPtr mcluster);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    public static partial IntPtr MockClusterBootstraps(IntPtr mcluster);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MockTopicCreate(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_broker_set_down")]
    public static partial int MockBrokerSetDown(IntPtr mcluster, int brokerId);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_broker_set_up")]
    public static partial int MockBrokerSetUp(IntPtr mcluster, int brokerId);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_group_initial_rebalance_delay_ms")]
    public static partial void MockGroupInitialRebalanceDelayMs(IntPtr mcluster, int delayMs);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_err2str")]
    public static partial IntPtr ErrToStr(int err);

    public static string ErrorText(int err) => Marshal.PtrToStringUTF8(ErrToStr(err)) ?? err.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
