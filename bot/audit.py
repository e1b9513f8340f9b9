"""`kratom-qa corpus audit`: problems a valid corpus can still have.

`corpus validate` refuses a corpus that cannot be loaded. The audit goes further and lists,
one line per problem and naming the file: reviews older than `review_max_age_days`, coverage
topics with fewer than two documents, topic keys outside COVERAGE_TOPICS, broken citation
fields, dose-like amounts (guardrails.amounts) and a missing `## Key facts` section.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlparse

from bot.corpus_loader import CorpusError, Document, load_corpus
from bot.settings import Settings
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
)
MIN_DOCS_PER_TOPIC = 2
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
        out.append(f"{name}: stale review: reviewed {doc.reviewed.isoformat()}, {age} days ago (max {max_age})")
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
    return out


def audit_corpus(settings: Settings) -> list[str]:
    """Every problem found in `settings.corpus_dir`, one human-readable line each ([] = clean)."""
    corpus_dir = Path(settings.corpus_dir)
    try:
        docs = load_corpus(corpus_dir)
    except CorpusError as exc:
        return [str(exc)]
    today = date.today()
    problems: list[str] = []
    for doc in docs:
        problems += _document_problems(doc, _name(doc.path, corpus_dir), today, settings.review_max_age_days)
    for topic, ids in coverage_map(docs).items():
        if len(ids) < MIN_DOCS_PER_TOPIC:
            have = ", ".join(_name(d.path, corpus_dir) for d in docs if d.id in ids) or "none"
            problems.append(
                f"coverage: topic {topic!r} has {len(ids)} document(s), needs {MIN_DOCS_PER_TOPIC} (files: {have})"
            )
    return problems
