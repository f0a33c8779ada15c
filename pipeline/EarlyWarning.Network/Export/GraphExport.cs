using System.Globalization;
using System.Text;
using System.Xml;
using EarlyWarning.Network.Metrics;

namespace EarlyWarning.Network.Export;

/// <summary>Writes a window's graph as GraphML or GEXF 1.3 (for Gephi) with <see cref="XmlWriter"/>.</summary>
public static class GraphExport
{
    private const string GraphMlNs = "http://graphml.graphdrawing.org/xmlns";
    private const string GexfNs = "http://gexf.net/1.3";

    private static XmlWriterSettings Settings => new() { Encoding = new UTF8Encoding(false), Indent = true, CloseOutput = false };

    public static void WriteGraphMl(Stream output, GraphView graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        using var w = XmlWriter.Create(output, Settings);
        w.WriteStartDocument();
        w.WriteStartElement("graphml", GraphMlNs);
        Key(w, "posts", "node", "int");
        Key(w, "flagged", "node", "int");
        Key(w, "followers", "node", "int");
        Key(w, "country", "node", "string");
        Key(w, "region", "node", "string");
        Key(w, "kind", "edge", "string");
        Key(w, "weight", "edge", "double");
        Key(w, "first_seen", "edge", "string");
        Key(w, "last_seen", "edge", "string");
        w.WriteStartElement("graph", GraphMlNs);
        w.WriteAttributeString("id", "G");
        w.WriteAttributeString("edgedefault", "directed");
        foreach (var n in graph.Nodes)
        {
            w.WriteStartElement("node", GraphMlNs);
            w.WriteAttributeString("id", Safe(n.Id));
            Data(w, "posts", I(n.Posts));
            Data(w, "flagged", I(n.FlaggedPosts));
            Data(w, "followers", I(n.Followers));
            if (n.Country is not null) Data(w, "country", Safe(n.Country));
            if (n.Region is not null) Data(w, "region", Safe(n.Region));
            w.WriteEndElement();
        }
        var i = 0;
        foreach (var e in graph.Edges)
        {
            w.WriteStartElement("edge", GraphMlNs);
            w.WriteAttributeString("id", "e" + I(i++));
            w.WriteAttributeString("source", Safe(e.Source));
            w.WriteAttributeString("target", Safe(e.Target));
            if (e.Kind == "coshare") w.WriteAttributeString("directed", "false");
            Data(w, "kind", e.Kind);
            Data(w, "weight", e.Weight.ToString("R", CultureInfo.InvariantCulture));
            Data(w, "first_seen", e.FirstSeen.ToString("O", CultureInfo.InvariantCulture));
            Data(w, "last_seen", e.LastSeen.ToString("O", CultureInfo.InvariantCulture));
            w.WriteEndElement();
        }
        w.WriteEndElement();
        w.WriteEndElement();
        w.WriteEndDocument();
    }

    public static void WriteGexf(Stream output, GraphView graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        using var w = XmlWriter.Create(output, Settings);
        w.WriteStartDocument();
        w.WriteStartElement("gexf", GexfNs);
        w.WriteAttributeString("version", "1.3");
        w.WriteStartElement("meta", GexfNs);
        w.WriteAttributeString("lastmodifieddate", graph.WindowEnd.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        w.WriteElementString("creator", GexfNs, "EarlyWarning");
        w.WriteElementString("description", GexfNs,
            "Account graph " + graph.WindowStart.ToString("O", CultureInfo.InvariantCulture) + " .. " + graph.WindowEnd.ToString("O", CultureInfo.InvariantCulture));
        w.WriteEndElement();
        w.WriteStartElement("graph", GexfNs);
        w.WriteAttributeString("defaultedgetype", "directed");
        w.WriteAttributeString("mode", "static");
        w.WriteStartElement("attributes", GexfNs);
        w.WriteAttributeString("class", "node");
        Attr(w, "0", "posts", "integer");
        Attr(w, "1", "flagged", "integer");
        Attr(w, "2", "followers", "integer");
        Attr(w, "3", "country", "string");
        Attr(w, "4", "region", "string");
        w.WriteEndElement();
        w.WriteStartElement("attributes", GexfNs);
        w.WriteAttributeString("class", "edge");
        Attr(w, "0", "kind", "string");
        Attr(w, "1", "first_seen", "string");
        Attr(w, "2", "last_seen", "string");
        w.WriteEndElement();
        w.WriteStartElement("nodes", GexfNs);
        foreach (var n in graph.Nodes)
        {
            w.WriteStartElement("node", GexfNs);
            w.WriteAttributeString("id", Safe(n.Id));
            w.WriteAttributeString("label", Safe(n.Id));
            w.WriteStartElement("attvalues", GexfNs);
            AttValue(w, "0", I(n.Posts));
            AttValue(w, "1", I(n.FlaggedPosts));
            AttValue(w, "2", I(n.Followers));
            if (n.Country is not null) AttValue(w, "3", Safe(n.Country));
            if (n.Region is not null) AttValue(w, "4", Safe(n.Region));
            w.WriteEndElement();
            w.WriteEndElement();
        }
        w.WriteEndElement();
        w.WriteStartElement("edges", GexfNs);
        var i = 0;
        foreach (var e in graph.Edges)
        {
            w.WriteStartElement("edge", GexfNs);
            w.WriteAttributeString("id", I(i++));
            w.WriteAttributeString("source", Safe(e.Source));
            w.WriteAttributeString("target", Safe(e.Target));
            // GEXF keeps parallel edges apart by their kind.
            w.WriteAttributeString("kind", e.Kind);
            if (e.Kind == "coshare") w.WriteAttributeString("type", "undirected");
            w.WriteAttributeString("weight", e.Weight.ToString("R", CultureInfo.InvariantCulture));
            w.WriteStartElement("attvalues", GexfNs);
            AttValue(w, "0", e.Kind);
            AttValue(w, "1", e.FirstSeen.ToString("O", CultureInfo.InvariantCulture));
            AttValue(w, "2", e.LastSeen.ToString("O", CultureInfo.InvariantCulture));
            w.WriteEndElement();
            w.WriteEndElement();
        }
        w.WriteEndElement();
        w.WriteEndElement();
        w.WriteEndElement();
        w.WriteEndDocument();
    }

    /// <summary>Replaces characters XML cannot carry (control characters, lone surrogates) with U+FFFD instead of failing.</summary>
    private static string Safe(string s)
    {
        var bad = false;
        for (var i = 0; i < s.Length && !bad; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            else if (!XmlConvert.IsXmlChar(s[i])) bad = true;
        }
        if (!bad) return s;
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb.Append(s[i]).Append(s[++i]);
            }
            else sb.Append(XmlConvert.IsXmlChar(s[i]) ? s[i] : '\uFFFD');
        }
        return sb.ToString();
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static void Key(XmlWriter w, string id, string forWhat, string type)
    {
        w.WriteStartElement("key", GraphMlNs);
        w.WriteAttributeString("id", id);
        w.WriteAttributeString("for", forWhat);
        w.WriteAttributeString("attr.name", id);
        w.WriteAttributeString("attr.type", type);
        w.WriteEndElement();
    }

    private static void Data(XmlWriter w, string key, string value)
    {
        w.WriteStartElement("data", GraphMlNs);
        w.WriteAttributeString("key", key);
        w.WriteString(value);
        w.WriteEndElement();
    }

    private static void Attr(XmlWriter w, string id, string title, string type)
    {
        w.WriteStartElement("attribute", GexfNs);
        w.WriteAttributeString("id", id);
        w.WriteAttributeString("title", title);
        w.WriteAttributeString("type", type);
        w.WriteEndElement();
    }

    private static void AttValue(XmlWriter w, string id, string value)
    {
        w.WriteStartElement("attvalue", GexfNs);
        w.WriteAttributeString("for", id);
        w.WriteAttributeString("value", value);
        w.WriteEndElement();
    }
}
