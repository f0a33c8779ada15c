namespace EarlyWarning.App.Simulation;

/// <summary>
/// One simulated region: its country, share of the traffic, languages and place names. Shares are relative weights;
/// at the default volume every region has about 4 posts a minute or more in local daytime, enough for a regional
/// drop to be told from chance within minutes (Kachin, where the shutdown is injected, a little more).
/// </summary>
internal sealed class RegionDef
{
    public required string Country { get; init; }
    public required string Name { get; init; }
    public required int CountryIndex { get; init; }
    public required double Share { get; init; }
    /// <summary>Background share of hateful posts (1-3 %).</summary>
    public required double HateRate { get; init; }
    /// <summary>Offset of local time from UTC, in minutes.</summary>
    public required int UtcOffsetMinutes { get; init; }
    public required Lang[] Langs { get; init; }
    public required double[] LangWeights { get; init; }
    /// <summary>Place names in Latin script (Swahili, English).</summary>
    public required string[] Places { get; init; }
    /// <summary>Place names in the region's own script, used by Burmese, Sinhala and Tamil text.</summary>
    public string[] PlacesMy { get; init; } = [];
    public string[] PlacesSi { get; init; } = [];
    public string[] PlacesTa { get; init; } = [];

    public string[] PlacesFor(Lang lang) => lang switch
    {
        Lang.My when PlacesMy.Length > 0 => PlacesMy,
        Lang.Si when PlacesSi.Length > 0 => PlacesSi,
        Lang.Ta when PlacesTa.Length > 0 => PlacesTa,
        _ => Places,
    };
}

/// <summary>The <c>election-day</c> scenario (DESIGN.md, "The election-day scenario"): regions, groups, timing.</summary>
internal static class ElectionDay
{
    public const string Name = "election-day";
    public const int DefaultPosts = 200_000;
    public static readonly DateTimeOffset Start = new(2026, 11, 7, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset End = new(2026, 11, 10, 0, 0, 0, TimeSpan.Zero);
    public const int Minutes = 3 * 24 * 60;

    public static readonly string[] Countries = ["MM", "LK", "KE"];

    /// <summary>Target groups of background hate per country, with weights.</summary>
    public static readonly string[][] HateGroups =
    [
        ["rohingya", "muslims", "women", "journalists", "election_officials"],
        ["muslims", "tamils", "sinhalese", "women", "journalists", "election_officials"],
        ["kikuyu", "luo", "kalenjin", "women", "journalists", "election_officials"],
    ];

    public static readonly double[][] HateGroupWeights =
    [
        [0.35, 0.30, 0.10, 0.15, 0.10],
        [0.35, 0.30, 0.10, 0.10, 0.08, 0.07],
        [0.25, 0.25, 0.20, 0.10, 0.10, 0.10],
    ];

    /// <summary>Groups that ordinary posts mention neutrally.</summary>
    public static readonly string[][] IdentityGroups =
    [
        ["rohingya", "muslims", "christians", "women", "journalists", "election_officials"],
        ["muslims", "tamils", "sinhalese", "women", "journalists", "election_officials"],
        ["kikuyu", "luo", "kalenjin", "muslims", "women", "journalists", "election_officials"],
    ];

    private static readonly Lang[] MyEn = [Lang.My, Lang.En];
    private static readonly Lang[] SwEn = [Lang.Sw, Lang.En];
    private static readonly Lang[] SiTaEn = [Lang.Si, Lang.Ta, Lang.En];

    public static readonly RegionDef[] Regions =
    [
        new() { Country = "MM", CountryIndex = 0, Name = "Rakhine", Share = 0.08, HateRate = 0.03, UtcOffsetMinutes = 390, Langs = MyEn, LangWeights = [0.85, 0.15],
            Places = ["Sittwe", "Kyaukphyu"], PlacesMy = ["စစ်တွေ", "ကျောက်ဖြူ"] },
        new() { Country = "MM", CountryIndex = 0, Name = "Yangon", Share = 0.12, HateRate = 0.012, UtcOffsetMinutes = 390, Langs = MyEn, LangWeights = [0.8, 0.2],
            Places = ["Yangon", "Hlaing", "Insein"], PlacesMy = ["ရန်ကုန်", "လှိုင်", "အင်းစိန်"] },
        new() { Country = "MM", CountryIndex = 0, Name = "Mandalay", Share = 0.08, HateRate = 0.015, UtcOffsetMinutes = 390, Langs = MyEn, LangWeights = [0.88, 0.12],
            Places = ["Mandalay", "Pyin Oo Lwin"], PlacesMy = ["မန္တလေး", "ပြင်ဦးလွင်"] },
        new() { Country = "MM", CountryIndex = 0, Name = "Shan", Share = 0.08, HateRate = 0.012, UtcOffsetMinutes = 390, Langs = MyEn, LangWeights = [0.9, 0.1],
            Places = ["Taunggyi", "Lashio"], PlacesMy = ["တောင်ကြီး", "လားရှိုး"] },
        new() { Country = "MM", CountryIndex = 0, Name = "Kachin", Share = 0.10, HateRate = 0.01, UtcOffsetMinutes = 390, Langs = MyEn, LangWeights = [0.9, 0.1],
            Places = ["Myitkyina", "Bhamo"], PlacesMy = ["မြစ်ကြီးနား", "ဗန်းမော်"] },
        new() { Country = "LK", CountryIndex = 1, Name = "Western", Share = 0.11, HateRate = 0.012, UtcOffsetMinutes = 330, Langs = SiTaEn, LangWeights = [0.6, 0.1, 0.3],
            Places = ["Colombo", "Gampaha"], PlacesSi = ["කොළඹ", "ගම්පහ"], PlacesTa = ["கொழும்பு", "கம்பஹா"] },
        new() { Country = "LK", CountryIndex = 1, Name = "Northern", Share = 0.08, HateRate = 0.012, UtcOffsetMinutes = 330, Langs = SiTaEn, LangWeights = [0.05, 0.8, 0.15],
            Places = ["Jaffna", "Kilinochchi"], PlacesSi = ["යාපනය", "කිලිනොච්චිය"], PlacesTa = ["யாழ்ப்பாணம்", "கிளிநொச்சி"] },
        new() { Country = "LK", CountryIndex = 1, Name = "Eastern", Share = 0.08, HateRate = 0.025, UtcOffsetMinutes = 330, Langs = SiTaEn, LangWeights = [0.3, 0.45, 0.25],
            Places = ["Batticaloa", "Ampara", "Trincomalee"], PlacesSi = ["මඩකලපුව", "අම්පාර", "ත්‍රිකුණාමලය"], PlacesTa = ["மட்டக்களப்பு", "அம்பாறை", "திருகோணமலை"] },
        new() { Country = "KE", CountryIndex = 2, Name = "Nairobi", Share = 0.11, HateRate = 0.02, UtcOffsetMinutes = 180, Langs = SwEn, LangWeights = [0.5, 0.5],
            Places = ["Nairobi", "Kibera", "Westlands", "Eastleigh"] },
        new() { Country = "KE", CountryIndex = 2, Name = "Mombasa", Share = 0.08, HateRate = 0.015, UtcOffsetMinutes = 180, Langs = SwEn, LangWeights = [0.65, 0.35],
            Places = ["Mombasa", "Likoni", "Nyali"] },
        new() { Country = "KE", CountryIndex = 2, Name = "Kisumu", Share = 0.08, HateRate = 0.015, UtcOffsetMinutes = 180, Langs = SwEn, LangWeights = [0.6, 0.4],
            Places = ["Kisumu", "Kondele"] },
        new() { Country = "KE", CountryIndex = 2, Name = "Rift Valley", Share = 0.08, HateRate = 0.025, UtcOffsetMinutes = 180, Langs = SwEn, LangWeights = [0.6, 0.4],
            Places = ["Nakuru", "Eldoret"] },
    ];

    /// <summary>Relative volume by local hour (0-23): low at night, peaks in the day and evening.</summary>
    private static readonly double[] Diurnal =
    [
        0.40, 0.30, 0.25, 0.22, 0.25, 0.35, 0.55, 0.75, 0.90, 1.00, 1.05, 1.10,
        1.10, 1.05, 1.00, 1.00, 1.05, 1.10, 1.20, 1.30, 1.25, 1.00, 0.80, 0.60,
    ];

    /// <summary>Volume factor per local calendar day from 7 November; 8 November is polling day.</summary>
    private static readonly double[] DayFactor = [1.0, 1.4, 1.15, 1.0];

    /// <summary>Relative volume of a region at a UTC minute since <see cref="Start"/> (hour interpolated).</summary>
    public static double Weight(RegionDef r, int minute)
    {
        var local = minute + r.UtcOffsetMinutes;
        var day = Math.Min(local / 1440, DayFactor.Length - 1);
        var hour = local % 1440 / 60.0;
        var h0 = (int)hour;
        var frac = hour - h0;
        var d = Diurnal[h0] * (1 - frac) + Diurnal[(h0 + 1) % 24] * frac;
        return r.Share * d * DayFactor[day];
    }

    public static int RegionIndex(string name) => Array.FindIndex(Regions, r => r.Name == name);
}
