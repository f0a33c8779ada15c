using System.Runtime.InteropServices;
using System.Text;

namespace EarlyWarning.Kafka.Mock;

/// <summary>
/// librdkafka's mock cluster, created natively (real Kafka-protocol brokers on 127.0.0.1, in this process) so tests and
/// benchmarks can create topics with a chosen partition count and take brokers down and up. Ordinary Confluent
/// consumers and producers connect to <see cref="BootstrapServers"/> over TCP. Broker ids are 1..<see cref="BrokerCount"/>.
/// Mind the mock's limits: about 5 MB retained per partition (older messages silently vanish), and no CreateTopics.
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private IntPtr _rk;
    private IntPtr _cluster;

    private MockKafkaCluster(IntPtr rk, IntPtr cluster, int brokers)
    {
        _rk = rk;
        _cluster = cluster;
        BrokerCount = brokers;
        BootstrapServers = Marshal.PtrToStringUTF8(LibRdKafka.MockClusterBootstraps(cluster))
                           ?? throw new InvalidOperationException("mock cluster has no bootstrap servers");
    }

    /// <summary>Comma-separated <c>127.0.0.1:port</c> of the brokers.</summary>
    public string BootstrapServers { get; }

    public int BrokerCount { get; }

    /// <summary>The librdkafka file this cluster runs in (the copy Confluent.Kafka loaded); null off Linux.</summary>
    public static string? NativeLibraryPath => LibRdKafka.LoadedPath;

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers. Group joins are answered without the usual initial delay.</summary>
    public static MockKafkaCluster Start(int brokers = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        _ = LibRdKafka.LoadedPath;
        var errstr = new byte[512];
        var conf = LibRdKafka.ConfNew();
        // Only errors from the mock's own handle; broker-down tests would otherwise flood stderr.
        if (LibRdKafka.ConfSet(conf, "log_level", "3", errstr, (UIntPtr)errstr.Length) != 0)
        {
            LibRdKafka.ConfDestroy(conf);
            throw new InvalidOperationException("rd_kafka_conf_set: " + Text(errstr));
        }
        var rk = LibRdKafka.New(LibRdKafka.RdKafkaProducer, conf, errstr, (UIntPtr)errstr.Length);
        if (rk == IntPtr.Zero)
        {
            LibRdKafka.ConfDestroy(conf);
            throw new InvalidOperationException("rd_kafka_new: " + Text(errstr));
        }
        var cluster = LibRdKafka.MockClusterNew(rk, brokers);
        if (cluster == IntPtr.Zero)
        {
            LibRdKafka.Destroy(rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        LibRdKafka.MockGroupInitialRebalanceDelayMs(cluster, 0);
        return new MockKafkaCluster(rk, cluster, brokers);
    }

    /// <summary>Creates a topic with a chosen partition count (the mock does not answer the admin CreateTopics call).</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        Check(LibRdKafka.MockTopicCreate(Handle, topic, partitions, replicationFactor), "rd_kafka_mock_topic_create " + topic);
    }

    /// <summary>Disconnects the broker and refuses new connections until <see cref="SetBrokerUp"/>.</summary>
    public void SetBrokerDown(int brokerId) => Check(LibRdKafka.MockBrokerSetDown(Handle, brokerId), "rd_kafka_mock_broker_set_down");

    /// <summary>Accepts connections to the broker again.</summary>
    public void SetBrokerUp(int brokerId) => Check(LibRdKafka.MockBrokerSetUp(Handle, brokerId), "rd_kafka_mock_broker_set_up");

    private IntPtr Handle => _cluster != IntPtr.Zero ? _cluster : throw new ObjectDisposedException(nameof(MockKafkaCluster));

    private static void Check(int err, string what)
    {
        if (err != 0) throw new InvalidOperationException($"{what}: {LibRdKafka.ErrorText(err)}");
    }

    private static string Text(byte[] errstr)
    {
        var n = Array.IndexOf(errstr, (byte)0);
        return Encoding.UTF8.GetString(errstr, 0, n < 0 ? errstr.Length : n);
    }

    public void Dispose()
    {
        if (_cluster != IntPtr.Zero) { LibRdKafka.MockClusterDestroy(_cluster); _cluster = IntPtr.Zero; }
        if (_rk != IntPtr.Zero) { LibRdKafka.Destroy(_rk); _rk = IntPtr.Zero; }
    }
}
