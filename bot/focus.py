"""What a question is about, beyond kratom: its focus (alcohol, a dog, the UK...), whether it is an
action topic that gets "What you can do", and whether it asks about dose evidence.

The composer uses a focus to drop sentences that do not address it and to say plainly when no
passage does ("My sources don't cover kratom and alcohol specifically"), instead of padding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Focus:
    name: str
    label: str  # as said in "My sources don't cover kratom and {label} specifically"
    question: re.Pattern
    sentence: re.Pattern  # a sentence (or its section heading) that addresses the focus
    exclude: re.Pattern | None = None  # shares a word but answers something else
    kind: str = "topic"  # topic | place | state | pet
    narrows: tuple[
        str, ...
    ] = ()  # broader foci this one replaces when both are asked ("hair test" > "drug tests")
    place: str = ""  # a place focus's place, as said in "For the law in {place}, ..." (default: the label)


def _re(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


FOCI: tuple[Focus, ...] = (
    Focus(
        "hair_test",
        "hair tests",
        _re(r"\bhair(?: follicle)?(?: drug)? (?:tests?|screens?|samples?|analysis)\b|\bhair follicles?\b"),
        _re(r"\bhair\b"),
        narrows=("drug_test",),
    ),
    Focus(
        "detection_window",
        "how long kratom stays detectable",
        _re(
            r"\b(?:how long|how many (?:days|hours|weeks))\b.*\b(?:detect\w*|show(?:s)? up|test\w*|urine|pee|screens?)\b|"
            r"\b(?:detect\w*|show up|urine|drug test)\b.*\b(?:how long|how many (?:days|hours|weeks))\b|\bdetection (?:window|time)"
        ),
        _re(
            r"\bdetection (?:window|time)|\b(?:detect\w*|positive|show(?:s|ed)? up)\b.*\b(?:for|up to|within)\b.*\b(?:days?|hours?|weeks?)\b"
        ),
        _re(r"\b(?:does not|did not|doesn't|cannot|can't|not) (?:report|say|give|show)\b"),
        narrows=("drug_test",),
    ),
    Focus(
        "strains",
        "kratom strains (red, green or white vein)",
        _re(
            r"\b(?:red|green|white|yellow|gold) (?:vein|maeng|bali|borneo|thai|malay)\b|\bveins?\b|\bstrains? of kratom\b|"
            r"\bkratom strains?\b|\b(?:which|what|best|different) strains?\b|\bmaeng da\b"
        ),
        _re(r"\bveins?\b|\bmaeng da\b|\bkratom strains?\b|\bstrains? of kratom\b"),
    ),
    Focus(
        "brands",
        "specific brands or sellers",
        _re(
            r"\b(?:brand|brands|vendor|vendors|seller|sellers|company|companies|shop)\b.*\b(?:legit|good|best|trust\w*|safe|reliable|"
            r"reputable|tested|quality|recommend\w*)\b|\b(?:legit|best|trusted|reputable|good) (?:brand|vendor|seller|company)s?\b|"
            r"\blab[- ]tested\b|\bthird[- ]party test\w*"
        ),
        _re(r"\b(?:brand|vendor|seller)s?\b.*\b(?:tested|quality|reputable|reliable)\b"),
    ),
    Focus(
        "shelf_life",
        "shelf life or storage of kratom products",
        _re(
            r"\b(?:expire\w*|expiration|shelf[- ]life|go(?:es)? bad|goes stale|stale|lose (?:its |their )?(?:strength|potency))\b|"
            r"\b(?:strength|potency)\b.*\bover time\b"
        ),
        _re(r"\b(?:expir\w*|shelf[- ]life|degrad\w*|loses? (?:strength|potency))\b"),
        _re(r"\burine|\bsamples?\b|\bplasma\b|\bblood\b"),
    ),
    Focus(
        "hair_loss",
        "hair loss",
        _re(
            r"\bhair\b.*\b(?:loss|thinning|thin|falls?|falling)\b|\bthinning hair\b|\bbald\w*|"
            r"\blos(?:e|ing) (?:my |your |their |his |her )?hair\b"
        ),
        _re(r"\bhair\b"),
    ),
    Focus(
        "blood_sugar",
        "blood sugar or diabetes",
        _re(r"\bblood sugar|\bglucose\b|\bdiabet\w*|\binsulin\b|\bmetformin\b"),
        _re(r"\bblood sugar|\bglucose\b|\bdiabet\w*|\binsulin\b"),
    ),
    Focus(
        "hormones",
        "testosterone or other hormones",
        _re(r"\btestosterone\b|\bhormon\w*|\bestrogen\b|\bthyroid\b"),
        _re(r"\btestosterone\b|\bhormon\w*|\bestrogen\b|\bthyroid\b"),
    ),
    Focus(
        "alcohol",
        "alcohol",
        _re(r"\b(alcohol|booze|beer|wine|liquor|drinking alcohol)\b"),
        _re(r"\balcohol\b(?! (?:dependence|abuse)\b)"),
    ),
    Focus(
        "benzodiazepines",
        "benzodiazepines",
        _re(
            r"\b(benzos?|benzodiazepines?|xanax|valium|klonopin|ativan|alprazolam|diazepam|clonazepam|lorazepam)\b"
        ),
        _re(r"benzodiazepine|sedative|sedation"),
    ),
    Focus(
        "drug_test",
        "drug tests",
        _re(
            r"\b(drug[- ]?tests?|drug screens?|urine tests?|pee tests?|test(?:ed)? positive|show up on|detect(?:ed|able)?|urine|5[- ]panel|panel)\b"
        ),
        _re(r"drug[- ]test|testing panel|\bpanel\b|urine|\bscreen(?:s|ed|ing)? for\b|\bdetect"),
        _re(r"death|died|post-?mortem|autops|forensic|coroner|heavy metal|DAST"),
    ),
    Focus(
        "buprenorphine",
        "buprenorphine (Suboxone)",
        _re(r"\b(suboxone|buprenorphine|subutex|methadone|naltrexone)\b"),
        _re(r"buprenorphine|suboxone|methadone|naltrexone|medications? for opioid use disorder"),
    ),
    Focus(
        "breastfeeding",
        "breastfeeding",
        _re(r"\b(breast ?feed\w*|breast ?milk|nursing (?:mother|my baby)|lactat\w*)\b"),
        _re(r"breast|lactat|\bmilk\b"),
    ),
    Focus(
        "withdrawal_duration",
        "how long withdrawal lasts",
        _re(r"\bhow long\b.*\bwithdraw|\bwithdraw\w*\b.*\b(?:last|how long|duration)\b"),
        _re(
            r"withdraw\w*\b.*\b(?:days?|weeks?|months?|lasts?|lasted|duration|peak\w*|resolve\w*)\b|\b(?:days?|weeks?|lasts?|lasted)\b.*withdraw"
        ),
    ),
    Focus(
        "antidepressants",
        "antidepressants",
        _re(
            r"\b(antidepressants?|ssris?|snris?|sertraline|zoloft|prozac|fluoxetine|lexapro|escitalopram|wellbutrin)\b"
        ),
        _re(r"antidepressant|ssri|serotonin"),
    ),
    Focus(
        "caffeine",
        "caffeine",
        _re(r"\b(caffeine|coffee|energy drinks?)\b"),
        _re(r"caffeine"),
        _re(r"coffee family"),
    ),
    Focus(
        "gabapentin",
        "gabapentin",
        _re(r"\b(gabapentin|neurontin|pregabalin|lyrica)\b"),
        _re(r"gabapentin|pregabalin"),
    ),
    Focus("tramadol", "tramadol", _re(r"\btramadol\b"), _re(r"tramadol")),
    Focus("kava", "kava", _re(r"\bkava\b"), _re(r"\bkava\b")),
    Focus(
        "sexual",
        "erectile dysfunction or sexual health",
        _re(r"\b(erectile|libido|sex drive|sexual)\b"),
        _re(r"erectile|libido|sexual"),
    ),
    Focus(
        "fertility",
        "fertility",
        _re(r"\b(fertility|infertil\w*|sperm|getting pregnant|conceive)\b"),
        _re(r"fertil|sperm"),
    ),
    Focus(
        "sports",
        "sports and athletes",
        _re(r"\b(athletes?|sports?|doping|anti-doping|wada)\b"),
        _re(r"athlete|\bsports?\b|doping"),
    ),
    Focus(
        "pets",
        "pets",
        _re(r"\b(dogs?|puppy|puppies|cats?|kittens?|pets?|horses?)\b"),
        _re(r"\b(?:dogs?|cats?|pets?|veterinar\w*)\b"),
        _re(r"\b(?:mice|mouse|rats?|monkeys?|plasma|animal stud\w*)\b"),  # lab animals are not pets
        kind="pet",
    ),
    Focus(
        "uk",
        "the UK",
        _re(r"\b(uk|u\.k\.|united kingdom|britain|british|england|scotland|wales)\b"),
        _re(r"\b(?:uk|u\.k\.|united kingdom|britain|british|england)\b"),
        kind="place",
    ),
    Focus("australia", "Australia", _re(r"\baustralia\w*\b"), _re(r"australia"), kind="place"),
    Focus("canada", "Canada", _re(r"\b(canada|canadian)\b"), _re(r"canada|canadian"), kind="place"),
    Focus(
        "europe",
        "Europe",
        _re(r"\b(europe|european union|\beu\b|germany|france|ireland|netherlands|sweden|poland)\b"),
        _re(r"europe|germany|france|ireland|netherlands|sweden|poland"),
        kind="place",
    ),
    Focus(
        "who",
        "the WHO",
        re.compile(r"\bWHO\b|[Ww]orld [Hh]ealth|\bECDD\b"),  # "who" is a common word: case matters
        re.compile(r"\bWHO\b|World Health|[Ee]xpert [Cc]ommittee|ECDD"),
    ),
    Focus(
        "deaths",
        "deaths",
        _re(r"\b(kill(?:s|ed)?|deaths?|died|die|dying|fatal\w*|lethal)\b"),
        _re(r"\b(?:deaths?|died|dead|fatal\w*|killed|medical examiners?|coroners?)\b"),
    ),
    Focus("liver", "the liver", _re(r"\b(liver|hepat\w*|jaundice)\b"), _re(r"liver|hepat|jaundice")),
    Focus(
        "heart",
        "the heart",
        _re(r"\b(heart|cardiac|cardio\w*|ecg|qt|arrhythm\w*)\b"),
        _re(r"heart|cardi|\becg\b|\bqt|arrhythm"),
    ),
    Focus("kidney", "the kidneys", _re(r"\b(kidneys?|renal)\b"), _re(r"kidney|renal")),
    Focus("seizure", "seizures", _re(r"\bseizures?\b"), _re(r"seizure")),
    Focus(
        "pregnancy",
        "pregnancy",
        _re(r"\b(pregnan\w*|prenatal|newborns?|neonat\w*|unborn)\b"),
        _re(r"pregnan|prenatal|newborn|neonat|infant|baby|babies|fetus|fetal"),
    ),
    Focus("salmonella", "salmonella", _re(r"\bsalmonella\b"), _re(r"salmonella")),
    Focus(
        "heavy_metals",
        "heavy metals",
        _re(r"\b(heavy metals?|lead|nickel|arsenic|mercury)\b"),
        _re(r"heavy metal|\blead\b|nickel|arsenic|mercury"),
    ),
    Focus("cannabis", "cannabis", _re(r"\b(cannabis|marijuana|weed|thc|cbd)\b"), _re(r"cannabis|marijuana")),
)

ACTION_TOPICS: tuple[tuple[str, re.Pattern], ...] = (
    (
        "overdose",
        _re(r"overdos|narcan|naloxone|too much|won'?t wake|unresponsive|\bcoma\b|seizure|breathing"),
    ),
    (
        "parent",
        _re(
            r"\bmy (?:son|daughter|kid|kids|child|children|teen\w*|toddler|baby)\b|\btoddler|\bteen|adolescent|\bchild|\bkids?\b"
        ),
    ),
    ("pregnancy", _re(r"pregnan|breast ?feed|breast ?milk|nursing|newborn|neonat|prenatal")),
    (
        "quitting",
        _re(
            r"\bquit|\bstop(?:ping)?\b|withdraw|detox|taper|addict|get off|cut (?:back|down)|recover|rehab|use disorder|dependen|suboxone|buprenorphine"
        ),
    ),
    (
        "interactions",
        _re(
            r"interact|\bmix|combin|together with|along with|with (?:my|other) |\bwith \w+ (?:medications?|medicines?|pills|meds)\b|benzo|xanax|antidepress|alcohol|\bcyp"
        ),
    ),
    (
        "product",
        _re(
            r"contamin|salmonella|heavy metal|recall|bad (?:\w+ )?(?:batch|product)|\blabel|sick from|bad reaction|report (?:a|the|it)"
        ),
    ),
)

# "How much stronger than morphine?" compares strength: it asks no amount.
DOSE_RE = _re(
    r"\b(doses?|dosage|dosing|dosed|how much(?! (?:stronger|weaker|more potent|more powerful|longer|worse|better|faster))|"
    r"amounts?|milligrams?|mg|grams?|teaspoons?|spoons?)\b"
)
TOO_MUCH_RE = _re(r"\btoo much\b|overdos")
PAIN_RE = _re(r"\bpain\b")
# "How do I quit?", "what should I do?": the action itself is the bottom line.
HOW_TO_RE = _re(
    r"\bwhat (?:should|do|can) (?:i|we) do\b|\bwhat to do\b|\bwho can help\b|\bhelp me\b|"
    r"\bhow (?:do|can|should) (?:i|we) (?:quit|stop|get off|cut|taper|report|get help|help)\b|"
    r"\bwhere (?:can|do|should) (?:i|we) (?:get|find|go)\b"
)
NALOXONE_Q_RE = _re(
    r"\b(?:narcan|naloxone)\b.*\b(?:work|works|help|use|give|reverse|stop)\b|\b(?:work|help|reverse)\b.*\b(?:narcan|naloxone)\b"
)
EFFICACY_RE = _re(
    r"\b(?:work|works|help|helps|effective|safe|safer|alternative|treat|treats|good for|use it for)\b"
)

# A sentence that leans on one before it: used only right after its antecedent.
DANGLING_RE = _re(
    r"^(?:another|the other|these|this|those|that|such|both|it|they|the same|similarly|likewise|"
    r"in addition|also|however|by contrast|in contrast|furthermore|moreover|of these|of those|among them|"
    r"the (?:review|study|survey|report|authors|researchers|article|paper|patient|team)\b|"
    r"(?:yes|no|possibly|usually not)(?:, [^,:]{1,40})?[,:])"
)  # "Yes, ..." / "No: ..." answers its own section's heading, not this question
# Caveats that add nothing on their own ("...is general advice rather than a finding about kratom").
CAVEAT_ONLY_RE = _re(
    r"general advice rather than|does not mention kratom|(?:is|are) not specific to kratom|"
    r"covers? opioid overdoses in general|cannot be applied directly|so it does not show|"
    r"so it describes .* but cannot|relied on self-reports|does not name kratom"
)
# Study metadata ("A 2020 review in X gathered research on...") answers nothing as a bottom line.
METADATA_RE = _re(
    r"^(?:a|an|the|in a)\b[^.]{0,120}\b(?:review|study|survey|report|article|paper|researchers?)\b[^.]{0,160}"
    r"\b(?:gathered|looked at|asked|collected|described|examined|reviewed|measured|counted|published|surveyed|"
    r"summari[sz]ed|analy[sz]ed|included|compared|followed)\b"
)


LAW_WORDS = r"(?:law|laws|legal\w*|illegal|buy|sell|sold|purchase|lawful|unlawful|ban|bans|banned|schedul\w*|controlled|bill|statute|allowed|prohibit\w*|regulat\w*)"
US_STATES = (
    "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho "
    "Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota "
    "Mississippi Missouri Montana Nebraska Nevada New_Hampshire New_Jersey New_Mexico New_York North_Carolina "
    "North_Dakota Ohio Oklahoma Oregon Pennsylvania Rhode_Island South_Carolina South_Dakota Tennessee Texas "
    "Utah Vermont Virginia Washington West_Virginia Wisconsin Wyoming"
).split()
COUNTRIES = (
    "Thailand Malaysia Indonesia Vietnam Myanmar Singapore Japan China Korea India Philippines Mexico Brazil "
    "Argentina Colombia Chile Peru New_Zealand Russia Turkey Israel Switzerland Norway Denmark Finland Spain "
    "Italy Portugal Belgium Austria Romania Lithuania Latvia"
).split()


def _place_foci(names: list[str], kind: str, prefix: str) -> tuple[Focus, ...]:
    """A question about the law in a place is answered only by a sentence about the law there
    ("legal in Florida" is not "University of Florida"). A place named for another reason ("my order
    from Indonesia") is no focus: the question's other words say what it is about."""
    out: list[Focus] = []
    for raw in names:
        name = raw.replace("_", " ")
        word = r"\b" + re.escape(name).replace(r"\ ", r"\s+") + r"\b"
        law_near = _re(rf"{word}.*\b{LAW_WORDS}\b|\b{LAW_WORDS}\b.*{word}")
        key = prefix + name.lower().replace(" ", "_")
        out.append(Focus(key + "_law", f"the law in {name}", law_near, law_near, kind=kind, place=name))
    return tuple(out)


PLACE_FOCI = _place_foci(US_STATES, "state", "state_") + _place_foci(COUNTRIES, "place", "country_")
UK_LAW = Focus(
    "uk_law",
    "the law in the UK",
    _re(
        rf"\b(?:uk|u\.k\.|united kingdom|britain|british|england|scotland|wales)\b.*\b{LAW_WORDS}\b|"
        rf"\b{LAW_WORDS}\b.*\b(?:uk|u\.k\.|united kingdom|britain|british|england|scotland|wales)\b"
    ),
    _re(
        rf"\b(?:uk|u\.k\.|united kingdom|britain|british|england)\b.*\b{LAW_WORDS}\b|"
        rf"\b{LAW_WORDS}\b.*\b(?:uk|u\.k\.|united kingdom|britain|british|england)\b"
    ),
    kind="place",
    narrows=("uk",),
    place="the UK",
)
ALL_FOCI: tuple[Focus, ...] = FOCI + (UK_LAW,) + PLACE_FOCI


def detect_foci(*texts: str) -> list[Focus]:
    """Foci of the first text that has any (the latest user turn first, then the folded query).
    A narrower focus replaces the broader one it names ("hair test" replaces "drug tests")."""
    for text in texts:
        found = [f for f in ALL_FOCI if text and f.question.search(text)]
        if found:
            narrowed = {n for f in found for n in f.narrows}
            return [f for f in found if f.name not in narrowed]
    return []


def addresses(focus: Focus, sentence: str, heading: str = "") -> bool:
    if focus.exclude and focus.exclude.search(sentence):
        return False
    return bool(focus.sentence.search(sentence)) or bool(heading and focus.sentence.search(heading))


def action_topics(*texts: str) -> list[str]:
    text = " ".join(t for t in texts if t)
    return [name for name, pattern in ACTION_TOPICS if pattern.search(text)]


def is_dose_evidence(text: str) -> bool:
    return bool(DOSE_RE.search(text or ""))
