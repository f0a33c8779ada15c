namespace EarlyWarning.App.Simulation;

/// <summary>Languages the simulator writes, with their ISO 639-1 codes.</summary>
internal enum Lang : byte { My = 0, Si = 1, Ta = 2, Sw = 3, En = 4 }

/// <summary>
/// The simulator's own text templates and word lists per language. Hateful and offensive templates take their
/// terms from the shipped lexicons (models/lexicons), so the lexicon classifier flags them; a test keeps the two
/// in step. Placeholders: {P} place, {N} number, {G} identity mention, {H} hateful term, {I} incitement phrase,
/// {O} insult, {T} emerging term.
/// </summary>
internal static class Phrasebook
{
    public static readonly string[] LangCodes = ["my", "si", "ta", "sw", "en"];

    // ---- ordinary election chatter: opener + body + closer gives thousands of distinct sentences ----
    public static readonly string[][] Openers =
    [
        ["", "", "မင်္ဂလာပါ၊", "သတင်း၊", "အခုပဲ", "ဟေ့"],
        ["", "", "සුබ උදෑසනක්,", "පුවත:", "දැන්", "යාළුවනේ,"],
        ["", "", "வணக்கம்,", "செய்தி:", "இப்போது", "நண்பர்களே,"],
        ["", "", "Habari,", "Taarifa:", "Sasa hivi", "Wadau,"],
        ["", "", "Update:", "Quick note:", "Right now", "Folks,"],
    ];

    public static readonly string[][] Bodies =
    [
        [
            "{P} မှာ မဲရုံ ရှေ့ လူ {N} ယောက်လောက် တန်းစီနေတယ်",
            "ဒီနေ့ မဲပေးပြီးပြီ {P} မှာ အေးအေးဆေးဆေးပါ",
            "{P} မဲရုံ အမှတ် {N} မှာ မဲရေတွက်နေပြီ",
            "ရွေးကောက်ပွဲ ရလဒ် ဘယ်တော့ ထွက်မလဲ",
            "မဲဆန္ဒရှင် အားလုံး မဲပေးဖို့ မမေ့ပါနဲ့",
            "{P} မှာ မိုးရွာနေပေမဲ့ လူတွေ မဲပေးဖို့ လာကြတယ်",
            "{P} မှာ မဲပေးသူ ရာခိုင်နှုန်း {N} လောက် ရှိမယ်",
            "ကိုယ်စားလှယ်လောင်း အမှတ် {N} ရဲ့ စည်းရုံးရေး {P} မှာ",
            "{P} မဲရုံ တွေ မနက် ခြောက်နာရီ ဖွင့်တယ်",
            "စောင့်ကြည့်သူ {N} ဦး {P} ကို ရောက်နေပြီ",
        ],
        [
            "{P} ඡන්ද මධ්‍යස්ථානය ඉදිරිපිට පෝලිමේ {N} දෙනෙක් පමණ",
            "මම ඡන්දය දැම්මා {P} සාමකාමීයි",
            "{P} ඡන්ද මධ්‍යස්ථාන අංක {N} ගණන් කිරීම ආරම්භ විය",
            "ඡන්ද ප්‍රතිඵල කවදා එයිද",
            "සියලු ඡන්දදායකයින් ඡන්දය දෙන්න අමතක කරන්න එපා",
            "{P} වැස්ස තිබුණත් මිනිස්සු ඡන්දය දෙන්න ආවා",
            "{P} ඡන්ද ප්‍රතිශතය {N} ක් පමණ වගේ",
            "අපේක්ෂක අංක {N} ගේ රැස්වීම අද {P}",
            "{P} නිරීක්ෂකයින් {N} දෙනෙක් පැමිණියා",
        ],
        [
            "{P} வாக்குச்சாவடியில் {N} பேர் வரிசையில் நிற்கிறார்கள்",
            "நான் வாக்களித்தேன் {P} அமைதியாக உள்ளது",
            "{P} வாக்குச்சாவடி எண் {N} இல் வாக்கு எண்ணிக்கை தொடங்கியது",
            "தேர்தல் முடிவுகள் எப்போது வரும்",
            "அனைத்து வாக்காளர்களும் வாக்களிக்க மறக்காதீர்கள்",
            "{P} மழை பெய்தாலும் மக்கள் வாக்களிக்க வந்தனர்",
            "{P} வாக்குப்பதிவு சுமார் {N} சதவீதம்",
            "வேட்பாளர் எண் {N} இன் கூட்டம் இன்று {P}",
            "{P} கண்காணிப்பாளர்கள் {N} பேர் வந்துள்ளனர்",
        ],
        [
            "Foleni ni ndefu kwenye kituo cha kupigia kura {P}, watu {N} hivi",
            "Nimepiga kura yangu, {P} kuna amani",
            "Kuhesabu kura kumeanza kituo nambari {N} {P}",
            "Matokeo ya uchaguzi yatatangazwa lini",
            "Wapiga kura wote msisahau kitambulisho chenu leo",
            "Mvua inanyesha {P} lakini watu bado wako kwenye foleni",
            "Idadi ya waliopiga kura {P} ni kama asilimia {N}",
            "Mgombea nambari {N} atafanya mkutano {P} kesho",
            "Waangalizi {N} wamefika {P} asubuhi hii",
            "Vituo vya kura {P} vimefunguliwa saa kumi na mbili",
            "Ndugu wananchi wa {P}, kumbukeni kupiga kura leo kabla ya jioni",
            "Matokeo ya kituo {N} {P} yatatangazwa usiku wa leo au kesho asubuhi",
            "Jamaa sikilizeni, foleni {P} bado ni ndefu, fikeni mapema kabla giza kuingia",
            "Kila mtaa {P} una amani, tuendelee hivyo hadi matokeo yatolewe",
            "Wakati umefika wa kusubiri matokeo kwa utulivu, msisahau kwamba sisi sote ni wenzetu",
            "Saa moja jioni vituo vya {P} vitafungwa, kila mkazi apige kura haraka",
            "Tusikubali uongo mtandaoni, matokeo halisi yatatolewa na tume tu",
            "Kila kijana wa {P} ajitokeze kupiga kura kwa amani bila kuchelewa",
            "Jiji hili ni letu sote, tena kesho tutaendelea na kazi kama kawaida",
        ],
        [
            "Long queue at the polling station in {P}, about {N} people",
            "Just voted in {P}, everything calm so far",
            "Counting has started at polling station {N} in {P}",
            "When will the official results be announced",
            "Reminder to all voters: bring your ID card",
            "Rain in {P} but people are still queueing to vote",
            "Turnout in {P} looks like {N} percent",
            "Candidate number {N} holds a rally in {P} tomorrow",
            "{N} observers have arrived in {P} this morning",
            "Polling stations in {P} opened on time",
        ],
    ];

    public static readonly string[][] Closers =
    [
        ["", "", "။", "🙏", "👍", "ဆက်ကြည့်ကြမယ်"],
        ["", "", ".", "🙏", "👍", "බලමු"],
        ["", "", ".", "🙏", "👍", "பார்ப்போம்"],
        ["", "", ".", "🙏", "👍", "tuone"],
        ["", "", ".", "🙏", "👍", "let's see"],
    ];

    /// <summary>Neutral sentences that name a group ({G}) without hostility.</summary>
    public static readonly string[][] IdentityBodies =
    [
        ["{G} မဲဆန္ဒရှင် တွေလည်း {P} မှာ မဲပေးကြတယ်", "{P} မှာ {G} ခေါင်းဆောင် တွေနဲ့ စောင့်ကြည့်သူ တွေ တွေ့ဆုံ", "{G} တွေ အတွက် မဲရုံ {N} ခု ဖွင့်ထားတယ်"],
        ["{G} ඡන්දදායකයින් ද {P} ඡන්දය දුන්නා", "{P} {G} නායකයින් නිරීක්ෂකයින් හමුවුණා", "{G} ප්‍රජාව සඳහා ඡන්ද මධ්‍යස්ථාන {N} ක්"],
        ["{G} வாக்காளர்களும் {P} இல் வாக்களித்தனர்", "{P} {G} தலைவர்கள் கண்காணிப்பாளர்களை சந்தித்தனர்", "{G} சமூகத்திற்கு {N} வாக்குச்சாவடிகள்"],
        ["{G} pia wamejitokeza kupiga kura {P}", "Viongozi wa {G} wamekutana na waangalizi {P}", "{G} wengi wamepiga kura {P} leo"],
        ["{G} voters also turned out in large numbers in {P}", "Observers met {G} community leaders in {P} today", "Good to see {G} queueing together with everyone in {P}"],
    ];

    /// <summary>Insults without a group.</summary>
    public static readonly string[][] OffensiveBodies =
    [
        ["ဒီ ကိုယ်စားလှယ်လောင်း က {O} ပဲ", "{P} က ပါတီ ခေါင်းဆောင် တွေ အားလုံး {O} တွေ", "ဒီလို ပြောတဲ့ သူ က {O}"],
        ["මේ අපේක්ෂකයා {O}", "{P} දේශපාලකයා ලොකු {O}", "ඔය කියන එකා {O}"],
        ["இந்த வேட்பாளர் ஒரு {O}", "{P} அரசியல்வாதி பெரிய {O}", "இப்படி சொல்பவன் {O}"],
        ["Huyu mgombea ni {O} kabisa", "Viongozi wa chama {P} ni {O}", "Anayesema hivyo ni {O}"],
        ["This candidate is a total {O}", "The party bosses in {P} are {O}", "Whoever wrote this is {O}"],
    ];

    public static readonly string[][] Insults =
    [
        ["ငတုံး", "အရူး"],
        ["මෝඩයා"],
        ["முட்டாள்"],
        ["mjinga", "mpumbavu", "fala"],
        ["idiot", "morons", "clowns", "stupid"],
    ];

    /// <summary>Hateful sentences: always an identity mention {G} and a hateful lexicon term {H}.</summary>
    public static readonly string[][] HateBodies =
    [
        ["{G} တွေ ဟာ {H} တွေ ပဲ {P} မှာ မဲပေးခွင့် မရှိသင့်ဘူး", "{P} မှာ {H} တွေ များလာပြီ {G} တွေ ဒီနိုင်ငံသား မဟုတ်ဘူး", "{G} ဆိုတာ {H} ပဲ"],
        ["{G} කියන්නේ {H} {P} ඉඩ නෑ", "{P} {H} වැඩිවෙලා {G} මේ රටේ නෙවෙයි", "{G} ඔක්කොම {H}"],
        ["{G} எல்லோரும் {H} {P} இல் இடமில்லை", "{P} இல் {H} அதிகமாகிவிட்டனர் {G} இந்த நாட்டவர் அல்ல", "{G} என்றால் {H}"],
        ["{G} ni {H}, hawafai {P}", "{P} imejaa {H}, {G} si wenzetu", "Hawa {G} ni {H} tu"],
        ["{G} are {H}, they do not belong in {P}", "{P} is full of {H}, {G} are not one of us", "All {G} are {H}"],
    ];

    /// <summary>Incitement tails appended to some hateful sentences.</summary>
    public static readonly string[][] IncitementTails =
    [
        ["{P} ကနေ {I}", "အားလုံး {I}"],
        ["{P} වලින් {I}", "ඔක්කොම {I}"],
        ["{P} இலிருந்து {I}", "எல்லோரையும் {I}"],
        ["{I} kutoka {P}", "wote {I}"],
        ["{I} of {P}", "{I} now"],
    ];

    public static readonly string[][] Incitements =
    [
        ["မောင်းထုတ်ကြ", "သတ်ပစ်"],
        ["එළවා දමනු", "මරා දමනු"],
        ["விரட்டியடி", "அழித்துவிடு"],
        ["waondolewe", "wafukuzwe"],
        ["drive them out", "wipe them out"],
    ];

    /// <summary>Generic dehumanising terms per language (no target of their own).</summary>
    public static readonly string[][] Dehumanising =
    [
        ["တိရစ္ဆာန်", "ပိုးမွှား", "ရောဂါပိုး"],
        ["තිරිසනුන්", "පණුවෝ"],
        ["மிருகங்கள்", "புழுக்கள்"],
        ["madoadoa", "kwekwe", "mende"],
        ["vermin", "cockroaches", "parasites", "subhuman"],
    ];

    /// <summary>Identity mention of a group in a language, or null when the language has none in the lexicons.</summary>
    public static string? Identity(Lang lang, string country, string group) => (lang, group) switch
    {
        (Lang.My, "rohingya") => "ရိုဟင်ဂျာ",
        (Lang.My, "muslims") => "မွတ်စလင်",
        (Lang.My, "christians") => "ခရစ်ယာန်",
        (Lang.My, "women") => "အမျိုးသမီး",
        (Lang.My, "journalists") => "သတင်းထောက်",
        (Lang.My, "election_officials") => "ရွေးကောက်ပွဲကော်မရှင်",
        (Lang.Si, "muslims") => "මුස්ලිම්",
        (Lang.Si, "tamils") => "දෙමළ",
        (Lang.Si, "sinhalese") => "සිංහල",
        (Lang.Si, "women") => "කාන්තාවන්",
        (Lang.Si, "journalists") => "මාධ්‍යවේදීන්",
        (Lang.Si, "election_officials") => "මැතිවරණ නිලධාරීන්",
        (Lang.Ta, "muslims") => "முஸ்லிம்",
        (Lang.Ta, "tamils") => "தமிழர்",
        (Lang.Ta, "sinhalese") => "சிங்களவர்",
        (Lang.Ta, "women") => "பெண்கள்",
        (Lang.Ta, "journalists") => "ஊடகவியலாளர்",
        (Lang.Ta, "election_officials") => "தேர்தல் அதிகாரிகள்",
        (Lang.Sw, "kikuyu") => "wakikuyu",
        (Lang.Sw, "luo") => "waluo",
        (Lang.Sw, "kalenjin") => "wakalenjin",
        (Lang.Sw, "muslims") => "waislamu",
        (Lang.Sw, "women") => "wanawake",
        (Lang.Sw, "journalists") => "wanahabari",
        (Lang.Sw, "election_officials") => "maafisa wa uchaguzi",
        (Lang.En, "rohingya") when country == "MM" => "rohingya",
        (Lang.En, "tamils") when country == "LK" => "tamils",
        (Lang.En, "sinhalese") when country == "LK" => "sinhalese",
        (Lang.En, "kikuyu") when country == "KE" => "kikuyus",
        (Lang.En, "luo") when country == "KE" => "luos",
        (Lang.En, "kalenjin") when country == "KE" => "kalenjins",
        (Lang.En, "muslims") => "muslims",
        (Lang.En, "women") => "women",
        (Lang.En, "journalists") => "journalists",
        (Lang.En, "election_officials") => "election officials",
        _ => null,
    };

    /// <summary>Hateful lexicon terms aimed at a group in a language (empty: use a generic dehumanising term).</summary>
    public static string[] HatefulTerms(Lang lang, string country, string group) => (lang, group) switch
    {
        (Lang.My, "rohingya") => ["ဘင်္ဂါလီ", "ခိုးဝင်ဘင်္ဂါလီ", "ခိုးဝင်"],
        (Lang.My, "muslims") => ["ကုလား", "ကုလားတွေ"],
        (Lang.My, "women") => ["ဖာသည်မ"],
        (Lang.My, "journalists") => ["သစ္စာဖောက်သတင်းထောက်"],
        (Lang.My, "election_officials") => ["မဲခိုးသူ"],
        (Lang.Si, "muslims") => ["හම්බයා", "හම්බයෝ", "තම්බියා"],
        (Lang.Si, "tamils") => ["පරදෙමළා", "පරදෙමළු", "කොටි"],
        (Lang.Ta, "muslims") => ["துலுக்கன்", "துலுக்கர்கள்"],
        (Lang.Ta, "sinhalese") => ["சிங்களக் காடையர்"],
        (Lang.Sw, "kikuyu") => ["kimurkeldet"],
        (Lang.Sw, "luo") => ["kihii", "watu wa kurusha mawe"],
        (Lang.Sw, "women") => ["malaya"],
        (Lang.Sw, "journalists") => ["wanahabari njaa"],
        (Lang.Sw, "election_officials") => ["wezi wa kura"],
        (Lang.En, "rohingya") when country == "MM" => ["illegal bengalis", "bengali intruders"],
        (Lang.En, "muslims") when country == "MM" => ["kalars"],
        (Lang.En, "muslims") when country == "LK" => ["hambaya", "thambiya"],
        (Lang.En, "tamils") when country == "LK" => ["para demala", "koti"],
        (Lang.En, "women") => ["feminazis"],
        (Lang.En, "journalists") => ["presstitutes"],
        (Lang.En, "election_officials") => ["vote thieves"],
        _ => [],
    };

    public static readonly string[][] CountryHashtags =
    [
        ["MyanmarVotes", "Election2026", "MMElection"],
        ["SLElection", "LKVotes", "Election2026"],
        ["KenyaDecides", "Uchaguzi2026", "Election2026"],
    ];

    // ---- the coordinated campaign: one message per wave; [a|b|c] is a slot whose first option is the default ----
    public const string CampaignHashtag = "NairobiKwanza";

    public static readonly string[] CampaignWaves =
    [
        "[Ndugu|Wananchi|Jamaa] wa Nairobi [sikilizeni|tusikie|fahamuni] , wakikuyu ni madoadoa na [lazima|sharti] waondolewe [kabla ya|kabla] matokeo [kutangazwa|kutolewa|kusomwa]",
        "[Tusikubali|Tusiruhusu|Hatutakubali] kimurkeldet [watawale|watuongoze] Nairobi [tena|kamwe] , wakikuyu wafukuzwe [kila mtaa|kila eneo|kila kona] [leo|sasa]",
        "Wakikuyu ni madoadoa [katika|ndani ya] [jiji|mji] hili , [wakati|saa] umefika [tuwaondoe|tuwatoe] [wote|kabisa] [bila kuchelewa|haraka]",
        "[Leo|Sasa|Hivi sasa] ni siku ya [kusafisha|kuosha] Nairobi , madoadoa wakikuyu waondolewe [bila huruma|mara moja] [kabla ya|kabla] [usiku|jioni]",
        "[Kumbukeni|Kumbuka|Msisahau] wakikuyu [waliiba|walipora|walinyakua] kura , kimurkeldet hawa wafukuzwe [kabla ya|kabla] [usiku|jioni|giza] [kuingia|kufika]",
        "[Kila|Kila mmoja|Kila mkazi] [mwananchi|kijana] wa Nairobi [asimame|ajitokeze] , madoadoa wakikuyu waondolewe [leo|sasa] [bila kusita|mara moja]",
    ];

    // ---- incitement by an influential account (Sinhala, against Muslims, in LK/Eastern) ----
    public const string IncitementText =
        "මුස්ලිම් හම්බයෝ අපේ ගම්වලින් එළවා දමනු, අද හවස {P} එකතු වෙන්න, ඔවුන්ගේ කඩ වහන්න";

    // ---- the emerging coded term (Swahili-looking coinage; in no lexicon file) ----
    public const string EmergingTerm = "panyarazi";

    /// <summary>Hateful Swahili sentences with the new term {T}, the group {G} and a known lexicon term.</summary>
    public static readonly string[] EmergingBodies =
    [
        "Hawa {T} {G} ni kihii tu, waondolewe {P}",
        "{T} wamejaa {P}, {G} ni madoadoa",
        "Tunawajua {T}, {G} ni kwekwe {P}",
        "{G} ni {T} na madoadoa, hawafai {P}",
        "Ma {T} wa {P} ni kihii, {G} si wenzetu",
        "{T} {T} kila mahali {P}, {G} wafukuzwe",
    ];
}
