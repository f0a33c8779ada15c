using System.Xml.Linq;

namespace EarlyWarning.Network.Tests;

public sealed class ExportTests
{
    private static NetworkEngine Engine()
    {
        var e = new NetworkEngine(new NetworkOptions());
        foreach (var p in CampaignGenerator.Generate(9, waves: 3, backgroundAccounts: 60, backgroundPosts: 600).Posts) e.Observe(p);
        return e;
    }

    [Fact]
    public void GraphMl_parses_and_round_trips_node_and_edge_counts()
    {
        var e = Engine();
        var view = e.Window(e.Now!.Value);
        Assert.True(view.Nodes.Count > 50 && view.Edges.Count > 50);
        using var ms = new MemoryStream();
        e.ExportGraphMl(ms, e.Now!.Value);
        ms.Position = 0;
        var doc = XDocument.Load(ms);
        XNamespace ns = "http://graphml.graphdrawing.org/xmlns";
        var nodes = doc.Descendants(ns + "node").ToList();
        var edges = doc.Descendants(ns + "edge").ToList();
        Assert.Equal(view.Nodes.Count, nodes.Count);
        Assert.Equal(view.Edges.Count, edges.Count);
        var ids = nodes.Select(n => (string)n.Attribute("id")!).ToHashSet();
        Assert.All(edges, x => Assert.True(ids.Contains((string)x.Attribute("source")!) && ids.Contains((string)x.Attribute("target")!)));
        Assert.Contains(edges, x => x.Elements(ns + "data").Any(d => (string)d.Attribute("key")! == "kind" && d.Value == "coshare"));
    }

    [Fact]
    public void Gexf_parses_and_round_trips_node_and_edge_counts()
    {
        var e = Engine();
        var view = e.Window(e.Now!.Value);
        using var ms = new MemoryStream();
        e.ExportGexf(ms, e.Now!.Value);
        ms.Position = 0;
        var doc = XDocument.Load(ms);
        XNamespace ns = "http://gexf.net/1.3";
        Assert.Equal("1.3", (string?)doc.Root!.Attribute("version"));
        Assert.Equal(view.Nodes.Count, doc.Descendants(ns + "nodes").Single().Elements(ns + "node").Count());
        var edges = doc.Descendants(ns + "edges").Single().Elements(ns + "edge").ToList();
        Assert.Equal(view.Edges.Count, edges.Count);
        Assert.Equal(view.Edges.Sum(x => x.Weight), edges.Sum(x => double.Parse((string)x.Attribute("weight")!, System.Globalization.CultureInfo.InvariantCulture)), 6);
    }

    [Fact]
    public void Ids_with_characters_xml_cannot_hold_do_not_break_the_export()
    {
        var e = new NetworkEngine(new NetworkOptions());
        e.Observe(Posts.Make("1", "a\u0001<b>&", Posts.T0, mentions: ["c\"d"]));
        using var ms = new MemoryStream();
        e.ExportGraphMl(ms, Posts.T0);
        ms.Position = 0;
        var doc = XDocument.Load(ms);
        Assert.Equal(2, doc.Descendants(XName.Get("node", "http://graphml.graphdrawing.org/xmlns")).Count());
        using var ms2 = new MemoryStream();
        e.ExportGexf(ms2, Posts.T0);
        ms2.Position = 0;
        Assert.Single(XDocument.Load(ms2).Descendants(XName.Get("edge", "http://gexf.net/1.3")));
    }
}
