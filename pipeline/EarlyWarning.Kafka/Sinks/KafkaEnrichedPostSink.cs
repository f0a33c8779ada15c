using System.Buffers;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.Kafka.Sinks;

/// <summary>
/// Writes classified posts to <c>posts.enriched</c> for the stateful stages of a scale-out layout. Records are keyed
/// by <see cref="SeriesKey"/> (country/region), so every series lives on one partition and one consumer instance.
/// Value: <c>{"source","offset","post":{original post JSON},"decision":{...}}</c>.
/// </summary>
public sealed class KafkaEnrichedPostSink : KafkaProducerSink
{
    public KafkaEnrichedPostSink(KafkaSinkOptions options) : base(options, KafkaTopics.PostsEnriched) { }

    /// <summary>The partitioning key of a post's series: <c>COUNTRY/REGION</c>, empty parts when unknown.</summary>
    public static string SeriesKey(Post post)
    {
        ArgumentNullException.ThrowIfNull(post);
        return (post.Country ?? string.Empty) + "/" + (post.Region ?? string.Empty);
    }

    /// <summary>Produces the posts and returns once all are acknowledged by the brokers.</summary>
    public Task WriteAsync(IReadOnlyList<PostEnvelope> posts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(posts);
        var records = new List<Message<byte[]?, byte[]?>>(posts.Count);
        foreach (var p in posts)
            records.Add(new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes(SeriesKey(p.Post)), Value = Serialize(p) });
        return ProduceAllAsync(records, cancellationToken);
    }

    /// <summary>The record value for one post.</summary>
    public static byte[] Serialize(PostEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var buffer = new ArrayBufferWriter<byte>(envelope.Post.Raw.Length + 512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("source", envelope.Position.Source);
            w.WriteNumber("offset", envelope.Position.Offset);
            w.WritePropertyName("post");
            if (envelope.Post.Raw.IsEmpty) WriteMinimalPost(w, envelope.Post);
            else w.WriteRawValue(envelope.Post.Raw.Span, skipInputValidation: false);
            if (envelope.Decision is { } d)
            {
                w.WriteStartObject("decision");
                w.WriteString("label", d.Label);
                w.WriteStartObject("scores");
                for (var i = 0; i < Labels.All.Length && i < d.Scores.Length; i++) w.WriteNumber(Labels.All[i], d.Scores[i]);
                w.WriteEndObject();
                w.WriteNumber("incitement", d.Incitement);
                w.WriteNumber("dehumanisation", d.Dehumanisation);
                if (d.Target is null) w.WriteNull("target"); else w.WriteString("target", d.Target);
                WriteStrings(w, "terms", d.Terms);
                WriteStrings(w, "explanation", d.Explanation);
                w.WriteString("model", d.Model);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMinimalPost(Utf8JsonWriter w, Post p)
    {
        w.WriteStartObject();
        w.WriteString("id", p.Id);
        w.WriteString("created_at", p.CreatedAt.UtcDateTime);
        w.WriteStartObject("author");
        w.WriteString("id", p.AuthorId);
        w.WriteEndObject();
        w.WriteString("text", p.Text);
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
