"""What a question is about, beyond kratom: its focus (alcohol, a dog, the UK...), whether it is an
action topic that gets "What you can do", and whether it asks about dose evidence.

The composer uses a focus to drop sentences that do not address it and to say plainly when no
passage does ("My sources don't cover kratom and alcohol specifically"), instead of padding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from guardrails.normalize import strip_accents


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


FOCI_FILE = Path(__file__).with_name("focus.yaml")


def _focus(row: dict) -> Focus:
    flags = 0 if row.get("case_sensitive") else re.IGNORECASE
    exclude = row.get("exclude")
    return Focus(
        row["name"],
        row["label"],
        re.compile(row["question"], flags),
        re.compile(row["sentence"], flags),
        re.compile(exclude, flags) if exclude else None,
        kind=row.get("kind", "topic"),
        narrows=tuple(row.get("narrows", ())),
        place=row.get("place", ""),
    )


_FOCI_DATA = yaml.safe_load(FOCI_FILE.read_text("utf-8"))
FOCI: tuple[Focus, ...] = tuple(_focus(row) for row in _FOCI_DATA["foci"])
PLACES_ES: dict[str, str] = _FOCI_DATA["places_es"]  # accent-folded Spanish name -> English name

ACTION_TOPICS: tuple[tuple[str, re.Pattern], ...] = (
    (
        "overdose",
        _re(  # "buprenorphine-naloxone" (Suboxone) is a treatment for dependence, not an overdose
            r"overdos|narcan|(?<!buprenorphine-)(?<!buprenorphine )naloxone|too much|won'?t wake|unresponsive|"
            r"\bcoma\b|seizure|breathing"
        ),
    ),
    (
        "parent",
        _re(
            r"\bmy (?:son|daughter|kid|kids|child|children|teen\w*|toddler|baby)\b|\btoddler|\bteen|adolescent|\bchild|\bkids?\b"
        ),
    ),
    (
        "pregnancy",
        _re(
            r"pregnan|breast ?feed|breast ?milk|nursing(?! (?:student|school|home|degree|program|class|staff))|newborn|neonat|prenatal"
        ),
    ),
    (
        "quitting",
        _re(
            r"\bquit|\bstop(?:ping)?\b|withdraw|detox|taper|addict|get off|cut (?:back|down)|\brecovery\b|rehab|use disorder|dependen|suboxone|buprenorphine"
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
            r"contamin|salmonella|heavy metal|recall|bad (?:\w+ )?(?:batch|product)|mislabel|"
            r"\blabel\w*\b.{0,30}\b(?:contain\w*|says?|accurate|match\w*|list\w*)\b|sick from|bad reaction|"
            r"report (?:a|the|it)"
        ),
    ),
)

# "How much stronger than morphine?" compares strength: it asks no amount.
DOSE_RE = _re(
    r"\b(doses?(?![- ](?:response|effect))|dosage|dosing|dosed|how much(?! (?:stronger|weaker|more potent|more powerful|longer|worse|better|faster))(?! (?:\w+ ){0,2}(?:trust|believe|rely|credit|weight))|"
    r"amounts?|milligrams?|mg|grams?|teaspoons?|spoons?)\b"
)
# A question that names a dose but asks another fact about it ("how long does one dose last?",
# "does more kratom mean worse side effects?", "why does the same amount hit differently?", "did that
# study use a big dose or a tiny one?"): its answer is that fact, not the no-safe-dose line.
DOSE_FACT_RE = _re(
    r"\b(?:differ\w*|vary|varies|varied|variation|depend(?:s|ed|ing)? on|same amount)\b|\bhow (?:fast|long|soon|quickly)\b|"
    r"\bkick in\b|\bhalf-?life\b|\bhang around\b|\b(?:big|bigger|tiny|small|smaller|low|single|high) (?:dose|amount)\b|"
    r"\bor a (?:tiny|small|big|low|high) one\b|\bdoes how much\b|\bcorrelat\w*|\brelat(?:e|es|ed|ing|ion|ionship)\b|"
    r"\b(?:higher|larger|lower|smaller) (?:doses|amounts)\b|"
    r"\b(?:more|larger|bigger|higher|heavier)\b[^.?]*\b(?:worse|side effects|risk|harm\w*|dependence|severe|withdrawal)\b"
)
# ...unless it also asks what amount is safe, right or too much.
DOSE_ADVICE_RE = _re(
    r"\bsafe\w*\b|\bshould\b|\bhow much (?:can|should|do|is too|to take)\b|\bdosage\b|\bmax\w*\b|\btoo much\b|"
    r"\brecommend\w*|\bestablish\w*|\bofficial\w*|\bguid\w*|\bcharts?\b|\bper day\b|\blethal\b|\btoxic\b|\bharmless\b"
)
TOO_MUCH_RE = _re(r"\btoo much\b|overdos")
PAIN_RE = _re(r"\bpain\b")
# "How do I quit?", "what should I do?": the action itself is the bottom line.
HOW_TO_RE = _re(
    r"\bwhat (?:should|do|can) (?:i|we) do\b|\bwhat to do\b|\bwho can help\b|\bhelp me\b|"
    r"\bhow (?:do|can|should) (?:i|we) (?:quit|stop|get off|cut|taper|report|get help|help)\b|"
    r"\bwhere (?:can|do|should) (?:i|we) (?:get|find|go)\b|"
    # asking for a service: "is there a hotline for people trying to quit?", "who do I call?"
    r"\b(?:hotline|helpline|help ?line)s?\b|\bwho (?:do|can|should) (?:i|we) (?:call|contact|talk to)\b"
)
NALOXONE_Q_RE = _re(
    r"\b(?:narcan|naloxone)\b.*\b(?:work|works|help|use|give|reverse|stop)\b|\b(?:work|help|reverse)\b.*\b(?:narcan|naloxone)\b"
)
EFFICACY_RE = _re(
    r"\b(?:work|works|help|helps|effective|safe|safer|alternative|treat|treats|good for|use it for)\b"
)

# The short answer that opens a section's first sentence ("Yes, ", "No: ", "Rarely, in case reports: "):
# it answers that section's heading, so the sentence leads only for a question that heading matches.
SHORT_ANSWER = (
    r"(?:yes|no|possibly|usually not|rarely|many were serious|some kratom products do|several treatments do)"
    r"(?:, [^,:]{1,40})?[,:]"
)
# A sentence that leans on one before it: used only right after its antecedent.
DANGLING_RE = _re(
    r"^(?:another|the other|these|this|those|that|such|both|it|they|the same|similarly|likewise|"
    r"in addition|also|however|by contrast|in contrast|furthermore|moreover|of these|of those|among them|"
    r"the (?:review|study|survey|report|authors|researchers|article|paper|patient|team)\b|"
    rf"{SHORT_ANSWER})"
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
    r"summari[sz]ed|analy[sz]ed|included|compared|followed)\b|"
    r"^(?:a|an|the|in a)\b[^.]{0,120}\breported (?:an?|on)\b(?: \w+){0,2} (?:survey|study|review|analysis)\b"
)


LAW_WORDS = (
    r"(?:law|laws|legal\w*|illegal|buy|sell|sold|purchase|lawful|unlawful|ban|bans|banned|schedul\w*|controlled|"
    r"bill|bills|statute|allowed|prohibit\w*|regulat\w*|act|acts|passed|legislat\w*|felon\w*|tax|taxed|taxes|"
    r"penalt\w*|arrest\w*|possess\w*)"
)
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
    "Italy Portugal Belgium Austria Romania Lithuania Latvia Estonia Greece Hungary Czechia Slovakia "
    "Slovenia Croatia Serbia Bulgaria Ukraine Belarus Iceland Luxembourg Cyprus Malta Taiwan Hong_Kong "
    "Cambodia Laos Bangladesh Pakistan Sri_Lanka Nepal Iran Iraq Saudi_Arabia United_Arab_Emirates Dubai "
    "Qatar Egypt Morocco Nigeria Kenya South_Africa Ghana Ethiopia Cuba Jamaica Puerto_Rico "
    "Dominican_Republic Venezuela Ecuador Bolivia Uruguay Paraguay Costa_Rica Panama Guatemala Honduras "
    "El_Salvador Nicaragua"
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
# Every place focus needs its place's name in the text: one search for any of them first, so a
# question naming no state or country skips their 123 patterns (most of detect_foci's time).
_ANY_PLACE_RE = _re(
    "|".join(
        r"\b" + re.escape(raw.replace("_", " ")).replace(r"\ ", r"\s+") + r"\b"
        for raw in US_STATES + COUNTRIES
    )
)
_NOT_PLACE_FOCI = ALL_FOCI[: len(ALL_FOCI) - len(PLACE_FOCI)]


def _place_name_res() -> list[tuple[re.Pattern, str]]:
    names = {n.replace("_", " "): n.replace("_", " ") for n in US_STATES + COUNTRIES}
    names.update({strip_accents(es.removeprefix("el ")): en for es, en in PLACES_ES.items()})
    return [
        (re.compile(r"\b" + re.escape(name).replace(r"\ ", r"\s+") + r"\b", re.IGNORECASE), english)
        for name, english in names.items()
    ]


PLACE_NAME_RES = _place_name_res()
# Words that name a place: the general "not covered" check (bot/gaps.py) leaves them to the law foci,
# which need a law word near the place ("my order from Indonesia" is about the FDA, not Indonesia).
PLACE_WORDS = frozenset(
    w
    for name in US_STATES + COUNTRIES
    for w in name.lower().split("_")
    if w not in {"new", "north", "south", "west", "united", "republic", "arab", "states", "island"}
) | frozenset(
    "uk britain british england scotland wales australia australian canada canadian europe eu".split()
)
SPANISH_PLACE = {en: es for es, en in PLACES_ES.items()}


def place_names(text: str) -> list[str]:
    """The English names of the places a text names, in English or Spanish ("España" -> Spain)."""
    folded = strip_accents(text)
    return [english for pattern, english in PLACE_NAME_RES if pattern.search(folded)]


def detect_foci(*texts: str) -> list[Focus]:
    """Foci of the first text that has any (the latest user turn first, then the folded query).
    A narrower focus replaces the broader one it names ("hair test" replaces "drug tests"). When the
    foci come from the folded query, a place the latest turn names replaces the earlier turn's
    ("is it legal in Wisconsin?" then "and Indiana?" asks about Indiana only). A place focus beside
    topic foci replaces them."""
    for i, text in enumerate(texts):
        foci = ALL_FOCI if text and _ANY_PLACE_RE.search(text) else _NOT_PLACE_FOCI
        found = [f for f in foci if text and f.question.search(text)]
        if found:
            named = set(place_names(texts[0])) if i else set()
            if named & {f.place for f in found if f in PLACE_FOCI}:
                found = [f for f in found if f not in PLACE_FOCI or f.place in named]
            narrowed = {n for f in found for n in f.narrows}
            found = [f for f in found if f.name not in narrowed]
            # "kratom deaths in the UK each year?": a place beside a topic binds. A sentence must address
            # the place (US death figures say nothing about the UK), and the place is what a "not
            # covered" line names.
            places = [f for f in found if f.kind in ("place", "state")]
            return places or found
    return []


def bare_place_foci(last: str, stopwords: frozenset[str]) -> list[Focus]:
    """A follow-up that only names a place ("ok and what about Indiana?", "and in California?")
    asks the earlier question about that place: a sentence addresses it when it names the place.
    Any other content word makes it a question of its own (none returned)."""
    named = place_names(last)
    if not named:
        return []
    words = [re.escape(n.lower()).replace(r"\ ", r"\s+") for n in named]
    rest = re.sub("|".join(rf"\b{w}\b" for w in words), " ", last.lower())
    if any(w not in stopwords and w != "kratom" for w in re.findall(r"[a-z]+", rest)):
        return []
    kinds = {n: "state" if n.replace(" ", "_") in US_STATES else "place" for n in named}
    return [
        Focus(
            f"place_{n.lower().replace(' ', '_')}",
            n,
            _re(rf"\b{w}\b"),
            _re(rf"\b{w}\b"),
            kind=kinds[n],
            place=n,
        )
        for n, w in zip(named, words)
    ]


_FUNCTION_WORDS = frozenset("a an and as at by for from in into of on or the to up with".split())


def asked_label(focus: Focus, *texts: str) -> str:
    """How the "not covered" line names a focus: the question's own word or two when the label does
    not hold them ("thyroid", not "testosterone or other hormones"; "cats", not "pets"); a phrase
    ("show up on") keeps the label."""
    for text in texts:
        m = focus.question.search(text or "")
        if m:
            said = m.group(0).strip().lower()
            label_words = {w[:4] for w in re.findall(r"[a-z]+", focus.label.lower())}
            words = re.findall(r"[a-z]+", said)
            shares = any(w[:4] in label_words for w in words)
            phrase = len(words) > 2 or any(w in _FUNCTION_WORDS for w in words)  # "show up on"
            return said if not shares and not phrase else focus.label
    return focus.label


def addresses(focus: Focus, sentence: str, heading: str = "") -> bool:
    if focus.exclude and focus.exclude.search(sentence):
        return False
    return bool(focus.sentence.search(sentence)) or bool(heading and focus.sentence.search(heading))


# "how often did the babies need morphine for withdrawal?": the baby's withdrawal, not a reader quitting.
BABY_RE = _re(r"\b(?:newborns?|neonat\w*|infants?|bab(?:y|ies)|NAS)\b")
QUIT_NOT_WITHDRAWAL_RE = _re(
    r"\bquit|\bstop(?:ping)?\b|detox|taper|addict|get off|cut (?:back|down)|\brecovery\b|rehab|use disorder|"
    r"suboxone|buprenorphine|\b(?:i|we|she|he|mom|mother)\b[^.?]{0,30}\bwithdraw"
)


def action_topics(*texts: str) -> list[str]:
    text = " ".join(t for t in texts if t)
    topics = [name for name, pattern in ACTION_TOPICS if pattern.search(text)]
    if "quitting" in topics and BABY_RE.search(text) and not QUIT_NOT_WITHDRAWAL_RE.search(text):
        topics.remove("quitting")  # withdrawal in a newborn: the pregnancy advice, not the quitting one
    return topics


def is_dose_evidence(text: str) -> bool:
    return bool(DOSE_RE.search(text or ""))


def is_dose_fact(text: str) -> bool:
    """Names a dose but asks another fact about it (DOSE_FACT_RE), not what amount is safe."""
    return is_dose_evidence(text) and bool(DOSE_FACT_RE.search(text)) and not DOSE_ADVICE_RE.search(text)
