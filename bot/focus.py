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
    kind: str = "topic"  # topic | place | pet


def _re(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


FOCI: tuple[Focus, ...] = (
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

DOSE_RE = _re(r"\b(doses?|dosage|dosing|dosed|how much|amounts?|milligrams?|mg|grams?|teaspoons?|spoons?)\b")
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
    r"(?:yes|no),)"
)  # "Yes, ..." answers its own section's heading, not this question
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


def detect_foci(*texts: str) -> list[Focus]:
    """Foci of the first text that has any (the latest user turn first, then the folded query)."""
    for text in texts:
        found = [f for f in FOCI if text and f.question.search(text)]
        if found:
            return found
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
