namespace EarlyWarning.Models.Evaluation;

/// <summary>One templated sentence that must not be flagged hateful.</summary>
public sealed record TemplateCase(string Group, string Kind, string Text);

/// <summary>
/// Templated identity checks (our own templates): neutral and positive statements that mention a group, negation,
/// counter-speech and reported/quoted speech. None of them is hateful; a <c>hate</c> label on any is a false positive.
/// </summary>
public static class IdentityTemplates
{
    /// <summary>Target-group id → plural noun phrase used in the templates.</summary>
    public static readonly IReadOnlyList<(string Group, string Phrase)> Groups =
    [
        ("women", "women"), ("trans_people", "trans people"), ("lgbtq", "gay people"), ("black_people", "black people"),
        ("disabled_people", "disabled people"), ("muslims", "Muslims"), ("immigrants", "immigrants"), ("jews", "Jews"),
        ("christians", "Christians"), ("hindus", "Hindus"), ("rohingya", "Rohingya people"), ("tamils", "Tamils"),
        ("sinhalese", "Sinhalese people"), ("kikuyu", "Kikuyu people"), ("luo", "Luo people"), ("kalenjin", "Kalenjin people"),
        ("journalists", "journalists"), ("election_officials", "election officials"), ("refugees", "refugees"),
        ("lesbians", "lesbians"),
    ];

    private static readonly (string Kind, string Template)[] Templates =
    [
        ("neutral", "Many {g} live in this city."),
        ("neutral", "A group of {g} met the mayor today."),
        ("neutral", "The survey asked {g} about the election."),
        ("neutral", "I am friends with {g} from my school."),
        ("neutral", "My neighbours are {g} and we share dinner on Fridays."),
        ("positive", "{G} deserve respect."),
        ("positive", "{G} are an important part of our country."),
        ("positive", "I am proud to stand beside {g}."),
        ("positive", "We welcome {g} in our community."),
        ("positive", "{G} have the same rights as everyone else."),
        ("negation", "{G} are not a threat to anyone."),
        ("negation", "It is not true that {g} are dangerous."),
        ("negation", "I would never insult {g}."),
        ("counter", "Hating {g} is wrong."),
        ("counter", "Stop spreading lies about {g}."),
        ("counter", "Nobody should attack {g} for who they are."),
        ("counter", "We stand together with {g} against hate."),
        ("quote", "The report documents insults against {g} so that they can be stopped."),
        ("quote", "She said that {g} face abuse online every day."),
        ("quote", "The court condemned the attacks on {g}."),
    ];

    // Training-time augmentation (Dixon et al. 2018 style): different sentences and phrasings from the evaluation
    // templates above, so the measured false-positive rates are not measured on what the model was trained on.
    private static readonly string[] AugmentTemplates =
    [
        "{g} are my colleagues", "i met some {g} at the market", "{g} vote too", "talking with {g} about football",
        "{g} and their families", "proud of the {g} in my town", "respect {g}", "support for {g}", "a documentary about {g}",
        "{g} celebrate the holiday", "the {g} next door helped us", "equal rights for {g}", "{g} work hard",
        "i am one of the {g}", "we are {g}", "{g} are welcome here", "no one should hate {g}", "do not insult {g}",
    ];

    private static readonly string[] AugmentPhrases =
    [
        "women", "girls", "trans people", "transgender people", "gay people", "gay men", "lesbians", "bisexual people",
        "black people", "black women", "african americans", "disabled people", "people with disabilities", "muslims",
        "muslim women", "immigrants", "migrants", "refugees", "jews", "jewish people", "christians", "hindus",
        "rohingya", "tamils", "sinhalese", "kikuyu", "luo", "kalenjin", "journalists", "election officials", "asians",
        "mexicans", "arabs", "latinos", "indians",
    ];

    /// <summary>Non-hateful identity sentences for training (label none), disjoint in wording from <see cref="All"/>.</summary>
    public static IReadOnlyList<string> TrainingAugmentation() =>
        AugmentPhrases.SelectMany(p => AugmentTemplates.Select(t => t.Replace("{g}", p, StringComparison.Ordinal))).ToList();

    /// <summary>Every template filled with every group.</summary>
    public static IReadOnlyList<TemplateCase> All()
    {
        var list = new List<TemplateCase>(Groups.Count * Templates.Length);
        foreach (var (group, phrase) in Groups)
        foreach (var (kind, t) in Templates)
        {
            var cap = char.ToUpperInvariant(phrase[0]) + phrase[1..];
            list.Add(new TemplateCase(group, kind, t.Replace("{G}", cap, StringComparison.Ordinal).Replace("{g}", phrase, StringComparison.Ordinal)));
        }
        return list;
    }

    /// <summary>False-positive rate (share labelled hate) per group, given one predicted label per case of <see cref="All"/>.</summary>
    public static SortedDictionary<string, double> FalsePositiveRates(IReadOnlyList<TemplateCase> cases, IReadOnlyList<string> predicted)
    {
        var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var g in cases.Select((c, i) => (c, i)).GroupBy(x => x.c.Group))
            result[g.Key] = Math.Round(g.Count(x => predicted[x.i] == Core.Posts.Labels.Hate) / (double)g.Count(), 4);
        return result;
    }
}
