using System.Xml.Linq;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Signals.Delivery;

namespace EarlyWarning.Signals.Tests.Delivery;

/// <summary>
/// CAP 1.2 and Atom output checked with XDocument. The CAP element orders below are the sequences of the CAP 1.2
/// schema (OASIS Standard, 1 July 2010, section 3 and CAP-v1.2.xsd); REQUIRED lists the elements that schema makes
/// mandatory (minOccurs 1).
/// </summary>
public sealed class CapAndAtomTests
{
    private static readonly XNamespace Cap = "urn:oasis:names:tc:emergency:cap:1.2";
    private static readonly XNamespace Atom = "http://www.w3.org/2005/Atom";

    private static readonly string[] AlertOrder =
        ["identifier", "sender", "sent", "status", "msgType", "source", "scope", "restriction", "addresses", "code", "note", "references", "incidents", "info"];
    private static readonly string[] AlertRequired = ["identifier", "sender", "sent", "status", "msgType", "scope"];
    private static readonly string[] InfoOrder =
    [
        "language", "category", "event", "responseType", "urgency", "severity", "certainty", "audience", "eventCode", "effective", "onset",
        "expires", "senderName", "headline", "description", "instruction", "web", "contact", "parameter", "resource", "area",
    ];
    private static readonly string[] InfoRequired = ["category", "event", "urgency", "severity", "certainty"];
    private static readonly string[] AreaOrder = ["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"];

    private static readonly string[] Statuses = ["Actual", "Exercise", "System", "Test", "Draft"];
    private static readonly string[] MsgTypes = ["Alert", "Update", "Cancel", "Ack", "Error"];
    private static readonly string[] Scopes = ["Public", "Restricted", "Private"];
    private static readonly string[] Categories = ["Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other"];
    private static readonly string[] ResponseTypes = ["Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None"];
    private static readonly string[] Urgencies = ["Immediate", "Expected", "Future", "Past", "Unknown"];
    private static readonly string[] Severities = ["Extreme", "Severe", "Moderate", "Minor", "Unknown"];
    private static readonly string[] Certainties = ["Observed", "Likely", "Possible", "Unlikely", "Unknown"];

    public static TheoryData<string, Severity, string> Cases => new()
    {
        { AlertKinds.VolumeSpike, Severity.Low, AlertStatus.New },
        { AlertKinds.Incitement, Severity.Critical, AlertStatus.New },
        { AlertKinds.VolumeDrop, Severity.High, AlertStatus.Acknowledged },
        { AlertKinds.KnownContentMatch, Severity.Medium, AlertStatus.Escalated },
        { AlertKinds.CoordinatedCampaign, Severity.High, AlertStatus.Dismissed },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Cap_has_every_required_element_in_schema_order_in_the_cap_namespace(string kind, Severity severity, string status)
    {
        var alert = DeliveryTestData.Alert(kind, severity: severity);
        alert.Status = status;
        var doc = CapWriter.Document(alert, new CapOptions { Links = DeliveryTestData.Links });
        // Round trip through text, as a receiver would parse it.
        var root = XDocument.Parse(doc.Declaration + doc.ToString()).Root!;

        Assert.Equal(Cap + "alert", root.Name);
        Assert.All(root.DescendantsAndSelf(), e => Assert.Equal(Cap.NamespaceName, e.Name.NamespaceName));
        CheckOrder(root, AlertOrder, AlertRequired);
        Assert.Equal(alert.Id, V(root, "identifier"));
        Assert.DoesNotMatch(@"[\s,<&]", V(root, "identifier"));
        Assert.DoesNotMatch(@"[\s,<&]", V(root, "sender"));
        // CAP dateTime: with a numeric offset; "Z" is not allowed.
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", V(root, "sent"));
        Assert.Contains(V(root, "status"), Statuses);
        Assert.Contains(V(root, "msgType"), MsgTypes);
        Assert.Contains(V(root, "scope"), Scopes);

        var info = Assert.Single(root.Elements(Cap + "info"));
        CheckOrder(info, InfoOrder, InfoRequired);
        Assert.All(info.Elements(Cap + "category"), c => Assert.Contains(c.Value, Categories));
        Assert.All(info.Elements(Cap + "responseType"), c => Assert.Contains(c.Value, ResponseTypes));
        Assert.Contains(V(info, "urgency"), Urgencies);
        Assert.Contains(V(info, "severity"), Severities);
        Assert.Contains(V(info, "certainty"), Certainties);
        foreach (var t in new[] { "effective", "onset", "expires" })
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", V(info, t));
        foreach (var pair in info.Elements(Cap + "parameter").Concat(info.Elements(Cap + "eventCode")))
            Assert.Equal(["valueName", "value"], pair.Elements().Select(e => e.Name.LocalName));

        var area = Assert.Single(info.Elements(Cap + "area"));
        CheckOrder(area, AreaOrder, ["areaDesc"]);
        Assert.Equal("Rakhine, MM", V(area, "areaDesc"));
        Assert.Contains(area.Elements(Cap + "geocode"), g => V(g, "value") == "MM");
        // The description is the explanation, never post text.
        Assert.DoesNotContain("synthetic excerpt", root.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Cap_mapping_follows_the_documented_table()
    {
        var a = DeliveryTestData.Alert(AlertKinds.VolumeSpike, severity: Severity.Medium, score: 3);
        Assert.Equal(("Moderate", "Future", "Possible"), (CapMapping.Severity(a), CapMapping.Urgency(a), CapMapping.Certainty(a)));
        a.Score = 9;
        Assert.Equal("Likely", CapMapping.Certainty(a));
        var inc = DeliveryTestData.Alert(AlertKinds.Incitement, severity: Severity.High);
        Assert.Equal(("Severe", "Immediate", "Likely"), (CapMapping.Severity(inc), CapMapping.Urgency(inc), CapMapping.Certainty(inc)));
        inc.Status = AlertStatus.Escalated;
        Assert.Equal("Observed", CapMapping.Certainty(inc));
        inc.Status = AlertStatus.Dismissed;
        Assert.Equal(("Past", "Unlikely"), (CapMapping.Urgency(inc), CapMapping.Certainty(inc)));
        var crit = DeliveryTestData.Alert(severity: Severity.Critical);
        Assert.Equal(("Extreme", "Immediate"), (CapMapping.Severity(crit), CapMapping.Urgency(crit)));
        Assert.Equal("Infra", CapMapping.Category(DeliveryTestData.Alert(AlertKinds.VolumeDrop)));
    }

    [Fact]
    public void Restricted_cap_carries_a_restriction_in_place()
    {
        var root = CapWriter.Element(DeliveryTestData.Alert(), new CapOptions { Scope = "Restricted", Restriction = "partners only" });
        CheckOrder(root, AlertOrder, [.. AlertRequired, "restriction"]);
        Assert.Throws<ArgumentException>(() => CapWriter.Element(DeliveryTestData.Alert(), new CapOptions { Scope = "Restricted" }));
    }

    [Fact]
    public void Atom_feed_has_the_required_feed_and_entry_elements()
    {
        var alerts = new[] { DeliveryTestData.Alert(), DeliveryTestData.Alert(AlertKinds.Incitement, region: "Yangon", minute: 30) };
        alerts[0].Audit.Add(new AuditEntry(DeliveryTestData.T0.AddHours(2), "analyst", AlertStatus.Acknowledged, null));
        var doc = AtomWriter.Feed(alerts, new AtomFeedOptions { Id = "http://127.0.0.1:5080/feeds/alerts.atom", Links = DeliveryTestData.Links, SelfLink = "http://127.0.0.1:5080/feeds/alerts.atom?country=MM" });
        var feed = XDocument.Parse(doc.ToString()).Root!;

        Assert.Equal(Atom + "feed", feed.Name);
        foreach (var n in new[] { "id", "title", "updated", "author" }) Assert.Single(feed.Elements(Atom + n));
        Assert.Contains(feed.Elements(Atom + "link"), l => (string?)l.Attribute("rel") == "self");
        // Feed updated = the latest entry's updated (here the audit entry two hours in).
        Assert.Equal("2026-11-08T08:00:00Z", V(feed, "updated", Atom));
        var entries = feed.Elements(Atom + "entry").ToList();
        Assert.Equal(2, entries.Count);
        foreach (var (e, a) in entries.Zip(alerts))
        {
            foreach (var n in new[] { "id", "title", "updated" }) Assert.Single(e.Elements(Atom + n));
            Assert.Equal("urn:earlywarning:alert:" + a.Id, V(e, "id", Atom));
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", V(e, "updated", Atom));
            var alt = Assert.Single(e.Elements(Atom + "link"), l => (string?)l.Attribute("rel") == "alternate");
            Assert.Equal(DeliveryTestData.Links.Dashboard(a.Id), (string?)alt.Attribute("href"));
            Assert.Contains(e.Elements(Atom + "link"), l => (string?)l.Attribute("rel") == "related" && (string?)l.Attribute("type") == CapWriter.MediaType);
            Assert.Contains(e.Elements(Atom + "category"), c => (string?)c.Attribute("term") == a.Kind);
            Assert.Contains(a.Explanation, V(e, "summary", Atom), StringComparison.Ordinal);
            Assert.Empty(e.Elements(Atom + "content"));
        }
    }

    [Fact]
    public void Cap_list_feed_embeds_one_cap_alert_per_entry()
    {
        var alerts = new[] { DeliveryTestData.Alert(), DeliveryTestData.Alert(region: "Shan", minute: 30) };
        var doc = AtomWriter.Feed(alerts, new AtomFeedOptions { Id = "urn:x", Links = DeliveryTestData.Links, EmbedCap = new CapOptions() });
        var contents = doc.Root!.Elements(Atom + "entry").Select(e => Assert.Single(e.Elements(Atom + "content"))).ToList();
        Assert.All(contents, c => Assert.Equal(CapWriter.MediaType, (string?)c.Attribute("type")));
        Assert.Equal(alerts.Select(a => a.Id), contents.Select(c => V(Assert.Single(c.Elements(Cap + "alert")), "identifier")));
    }

    [Fact]
    public void Empty_feed_is_still_valid()
    {
        var feed = AtomWriter.Feed([], new AtomFeedOptions { Id = "urn:x", Links = DeliveryTestData.Links }).Root!;
        Assert.Equal("1970-01-01T00:00:00Z", V(feed, "updated", Atom));
        Assert.Empty(feed.Elements(Atom + "entry"));
    }

    private static string V(XElement parent, string name, XNamespace? ns = null) =>
        Assert.Single(parent.Elements((ns ?? Cap) + name)).Value;

    /// <summary>Children appear in schema order (repeats allowed where the schema allows them) and the required ones are present.</summary>
    private static void CheckOrder(XElement parent, string[] order, string[] required)
    {
        var names = parent.Elements().Select(e => e.Name.LocalName).ToList();
        var last = -1;
        foreach (var n in names)
        {
            var i = Array.IndexOf(order, n);
            Assert.True(i >= 0, $"<{n}> is not a child of <{parent.Name.LocalName}> in CAP 1.2");
            Assert.True(i >= last, $"<{n}> is out of order in <{parent.Name.LocalName}>: {string.Join(",", names)}");
            last = i;
        }
        foreach (var r in required) Assert.Contains(r, names);
        foreach (var single in names.GroupBy(n => n).Where(g => g.Count() > 1))
            Assert.Contains(single.Key, new[] { "code", "info", "category", "responseType", "eventCode", "parameter", "resource", "area", "polygon", "circle", "geocode" });
    }
}
