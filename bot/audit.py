"""`kratom-qa corpus audit`: problems a valid corpus can still have.

`corpus validate` refuses a corpus that cannot be loaded. The audit goes further and lists,
one line per problem and naming the file: reviews older than `review_max_age_days`, coverage
topics with fewer than two documents, topic keys outside COVERAGE_TOPICS, broken citation
fields, dose-like amounts (guardrails.amounts), a missing `## Key facts` section, and the
claims rules of corpus/README.md ("Claims"): every body sentence that states a number, a date, a
count or a legal/regulatory action contains the `text` of one of its document's claims; every claim
has a locator and a dated `checked`; a legal-status document's newest check is at most
LEGAL_CHECK_MAX_AGE_DAYS old. The Spanish text (corpus/es/, bot/corpus_es.py): stale pairings, English lines
with no Spanish text, numbers not in the English line, amounts, unchecked translations. The
shipped vector cache (corpus/vectors.npz) lacking texts of the corpus as it is now.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlparse

from bot.chunking import sections
from bot.corpus_es import ES_DIR, load_spanish, spanish_problems
from bot.corpus_loader import CorpusError, Document, load_corpus
from bot.settings import Settings
from bot.vector_cache import FILE as VECTORS_FILE
from bot.vector_cache import missing_texts
from guardrails.amounts import find_amounts

# The topic keys of corpus/README.md ("Coverage map"); defined here only.
COVERAGE_TOPICS: tuple[str, ...] = (
    "what-is-kratom",
    "pharmacology",
    "fda-actions",
    "legal-status",
    "pain-evidence",
    "adverse-effects",
    "dependence-withdrawal",
    "deaths",
    "contamination",
    "interactions",
    "special-populations",
    "emergencies",
    "amounts",
    "marketing-claims",
    "chronic-pain-care",
    "legal-by-place",
    "drug-testing",
    "quitting-treatment",
    "pregnancy-breastfeeding",
    "pediatric-exposure",
    "7-oh",
    "overdose-naloxone",
    "prevalence-use-disorder",
    "seizures-enforcement",
)
MIN_DOCS_PER_TOPIC = 2
# Topics whose facts go stale with the law: their newest claim check may be at most this old.
LEGAL_TOPICS = ("legal-status", "legal-by-place")
LEGAL_CHECK_MAX_AGE_DAYS = 90
MAX_QUOTE_WORDS = 10

# Names that contain a digit but state no number (7-OH, CYP3A4, MGM-15, DSM-5): removed before
# the digit test, so "7-OH binds the mu-opioid receptor" needs no claim but "7-OH ... 14 times" does.
NAME_WITH_DIGIT_RE = re.compile(
    r"\b(?:7-OH|7-hydroxymitragynine|9-fluoro|CYP\d[A-Z]\d*|MGM-1[56]|DSM-5|S9|HELP4U|COVID-19)\b|"
    r"\b988 (?:Suicide & Crisis )?Lifeline\b",
    re.IGNORECASE,
)
COUNT_WORD_RE = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|"
    r"dozen|dozens|hundreds|thousands|millions|\w+fold)[\s-]+(?!(?:of|or|to|and|in|at|on|that|is|was|another|"
    r"more|less|than|a|an|the|for|with|by|from)\b)[a-z]",
    re.IGNORECASE,
)
LEGAL_ACTION_RE = re.compile(
    r"\b(?:schedul(?:e|ed|es|ing)|bans?|banned|banning|seiz(?:ed|ing)|seizures? of (?:kratom|products?|about)|recall(?:s|ed)?|warning letters?|"
    r"import alerts?|proposed|temporary (?:scheduling )?orders?|rules?|statutes?|illegal(?:ly)?|legal(?:ly)?|"
    r"(?:un)?lawful(?:ly)?|"
    r"(?<!-)controlled(?!\s+(?:clinical\s+)?(?:trials?|stud(?:y|ies)|research|human|tests?|experiments?)))\b",
    re.IGNORECASE,
)


def needs_claim(sentence: str) -> bool:
    """True when a sentence states a number, date, count or legal/regulatory action (spec rules)."""
    if re.search(r"\d", NAME_WITH_DIGIT_RE.sub(" ", sentence)):
        return True
    # idioms that contain a count word but state no count ("one drug for another", "no one")
    plain = re.sub(r"\b(?:no one|one another|one (?:\w+ )?for another)\b", " ", sentence, flags=re.IGNORECASE)
    return bool(COUNT_WORD_RE.search(plain) or LEGAL_ACTION_RE.search(sentence))


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def body_sentences(doc: Document) -> list[str]:
    """The sentences the bot can show from this document (headings excluded), as the composer splits them."""
    from bot.compose import split_sentences  # lazy: keeps `corpus validate` light

    return [s for _, text in sections(doc.body) for s in split_sentences(text)]


def _claim_problems(doc: Document, name: str, today: date) -> list[str]:
    out: list[str] = []
    body = _norm(doc.body)
    for i, claim in enumerate(doc.claims):
        where = f"{name}: claims[{i}] ({claim.text[:40]!r})"
        if not claim.locator:
            out.append(f"{where}: claim has no locator (section, table, page or paragraph of the source)")
        if claim.checked_on is None:
            out.append(f"{where}: claim has no 'checked' starting with a YYYY-MM-DD date")
        elif claim.checked_on > today:
            out.append(f"{where}: claim 'checked' date {claim.checked_on} is in the future")
        if _norm(claim.text) not in body:
            out.append(f"{where}: claim text is not found in the document body")
        if claim.quote:
            if len(claim.quote.split()) > MAX_QUOTE_WORDS:
                out.append(f"{where}: quote is longer than {MAX_QUOTE_WORDS} words")
            if not re.match(r'^\s*["“‘\']', claim.quote):
                out.append(f"{where}: quote must be marked with quotation marks")
    texts = [_norm(c.text) for c in doc.claims]
    for sentence in body_sentences(doc):
        if needs_claim(sentence) and not any(t in _norm(sentence) for t in texts):
            out.append(f"{name}: unclaimed sentence (number, date, count or legal action): {sentence!r}")
    if any(t in LEGAL_TOPICS for t in doc.topics):
        dates = [c.checked_on for c in doc.claims if c.checked_on]
        if not dates:
            out.append(f"{name}: legal-status document has no dated claim check")
        else:
            age = (today - max(dates)).days
            if age > LEGAL_CHECK_MAX_AGE_DAYS:
                out.append(
                    f"{name}: legal status last checked {max(dates).isoformat()}, {age} days ago "
                    f"(max {LEGAL_CHECK_MAX_AGE_DAYS} for {'/'.join(LEGAL_TOPICS)})"
                )
    if not doc.review_method:
        out.append(f"{name}: missing review_method (how the facts were checked against the source)")
    return out


KEY_FACTS_RE = re.compile(r"^##\s+Key facts\s*$", re.MULTILINE | re.IGNORECASE)


def coverage_map(docs: list[Document]) -> dict[str, list[str]]:
    """Coverage topic -> sorted ids of the documents tagged with it (every topic present)."""
    return {t: sorted(d.id for d in docs if t in d.topics) for t in COVERAGE_TOPICS}


def coverage_table(docs: list[Document]) -> str:
    """The Markdown "Coverage map" table of corpus/README.md."""
    rows = [f"| {t} | {', '.join(f'`{i}`' for i in ids)} |" for t, ids in coverage_map(docs).items()]
    return "\n".join(["| Topic | Documents |", "|---|---|", *rows])


def _name(path: Path, corpus_dir: Path) -> str:
    try:
        return str(path.relative_to(corpus_dir.parent))
    except ValueError:
        return str(path)


def _document_problems(doc: Document, name: str, today: date, max_age: int) -> list[str]:
    out: list[str] = []
    age = (today - doc.reviewed).days
    if age > max_age:
        out.append(
            f"{name}: stale review: reviewed {doc.reviewed.isoformat()}, {age} days ago (max {max_age})"
        )
    for topic in doc.topics:
        if topic not in COVERAGE_TOPICS:
            out.append(f"{name}: unknown topic {topic!r} (not one of COVERAGE_TOPICS in bot/audit.py)")
    if doc.source_type == "peer_reviewed":
        if not doc.doi and not doc.pmid:
            out.append(f"{name}: citation: peer_reviewed document has neither doi nor pmid")
        url = urlparse(doc.url)
        if (url.hostname or "").lower() in ("doi.org", "dx.doi.org"):
            url_doi = unquote(url.path).strip("/")
            if not doc.doi or url_doi.lower() != doc.doi.lower():
                out.append(f"{name}: citation: url DOI {url_doi!r} does not match doi field {doc.doi!r}")
    amounts = find_amounts(doc.path.read_text(encoding="utf-8"))
    if amounts:
        out.append(f"{name}: dose-like amount(s): {', '.join(repr(a) for a in amounts)}")
    if not KEY_FACTS_RE.search(doc.body):
        out.append(f"{name}: missing '## Key facts' section")
    out += _claim_problems(doc, name, today)
    return out


def audit_corpus(settings: Settings) -> list[str]:
    """Every problem found in `settings.corpus_dir`, one human-readable line each ([] = clean)."""
    corpus_dir = Path(settings.corpus_dir)
    try:
        docs = load_corpus(corpus_dir)
    except CorpusError as exc:
        return [str(exc)]
    try:
        spanish = load_spanish(corpus_dir, docs)
    except CorpusError as exc:
        return [str(exc)]
    today = date.today()
    problems: list[str] = []
    for doc in docs:
        problems += _document_problems(doc, _name(doc.path, corpus_dir), today, settings.review_max_age_days)
    if spanish or (corpus_dir / ES_DIR).is_dir():
        for doc in docs:
            sp = spanish.get(doc.id)
            problems += spanish_problems(
                sp, doc, _name(sp.path if sp else corpus_dir / ES_DIR / f"{doc.id}.yaml", corpus_dir)
            )
    for topic, ids in coverage_map(docs).items():
        if len(ids) < MIN_DOCS_PER_TOPIC:
            have = ", ".join(_name(d.path, corpus_dir) for d in docs if d.id in ids) or "none"
            problems.append(
                f"coverage: topic {topic!r} has {len(ids)} document(s), needs {MIN_DOCS_PER_TOPIC} (files: {have})"
            )
    problems += vector_cache_problems(settings)
    return problems


def vector_cache_problems(settings: Settings) -> list[str]:
    """One line when the corpus ships a vector cache (bot/vector_cache.py) that lacks texts an ingest
    encodes: the corpus was edited and `kratom-qa corpus vectors` not run (no file: nothing to say)."""
    corpus_dir = Path(settings.corpus_dir)
    if not (corpus_dir / VECTORS_FILE).is_file():
        return []
    missing, total = missing_texts(settings, settings.embedding_model)
    if not missing:
        return []
    return [
        f"{_name(corpus_dir / VECTORS_FILE, corpus_dir)}: the vector cache lacks {missing} of the {total} "
        "texts an ingest encodes (a first ingest encodes them itself); run `kratom-qa corpus vectors` "
        "and commit the file"
    ]
