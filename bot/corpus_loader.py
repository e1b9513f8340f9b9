"""Read and validate the vetted corpus: `corpus/documents/*.md` + `corpus/sources.yaml`.

An invalid corpus is refused as a whole, with an error naming the file and the field.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import yaml

from guardrails.policy import DataError

REQUIRED_FIELDS = ("id", "title", "publisher", "source_type", "url", "published", "reviewed", "topics")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}$")
PARTIAL_DATE_RE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_RE = re.compile(r"^\d{1,9}$")
CHECKED_DATE_RE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\b")
CLAIM_FIELDS = ("text", "locator", "quote", "checked")


class CorpusError(DataError):
    """The corpus is invalid: `file`, `field` and `why` say where and how to fix it."""

    place = "field"

    @property
    def field(self) -> str:
        return self.where


@dataclass(frozen=True)
class SourceType:
    name: str
    hosts: tuple[str, ...]
    requires_any_of: tuple[str, ...] = ()

    def allows(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == h or host.endswith("." + h) for h in self.hosts)


@dataclass(frozen=True)
class Claim:
    """One structured claim backing a body sentence (see corpus/README.md, "Claims")."""

    text: str  # an exact substring of one body sentence
    locator: str = ""  # section / table / page / paragraph of the source
    quote: str = ""  # optional marked quote of at most 10 words
    checked: str = ""  # "YYYY-MM-DD, how"

    @property
    def checked_on(self) -> date | None:
        m = CHECKED_DATE_RE.match(self.checked)
        try:
            return date.fromisoformat(m.group(1)) if m else None
        except ValueError:
            return None


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    publisher: str
    source_type: str
    url: str
    published: str
    reviewed: date
    topics: tuple[str, ...]
    body: str
    path: Path
    doi: str | None = None
    pmid: str | None = None
    review_method: str = ""
    claims: tuple[Claim, ...] = ()

    @property
    def year(self) -> str:
        return self.published[:4]

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]


def load_sources(corpus_dir: Path) -> dict[str, SourceType]:
    path = corpus_dir / "sources.yaml"
    if not path.is_file():
        raise CorpusError(path, "-", "sources.yaml is missing")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(path, "-", f"not valid YAML: {exc}") from None
    types = raw.get("source_types")
    if not isinstance(types, dict) or not types:
        raise CorpusError(path, "source_types", "must map source type names to {hosts: [...]}")
    out = {}
    for name, spec in types.items():
        hosts = (spec or {}).get("hosts")
        if not isinstance(hosts, list) or not hosts:
            raise CorpusError(path, f"source_types.{name}.hosts", "must be a non-empty list of hosts")
        out[name] = SourceType(
            name, tuple(str(h).lower() for h in hosts), tuple(spec.get("requires_any_of", ()))
        )
    return out


def split_front_matter(text: str, path: Path) -> tuple[dict, str]:
    if not text.startswith("---"):
        raise CorpusError(path, "front matter", "file must start with a '---' YAML front matter block")
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise CorpusError(path, "front matter", "front matter is not closed with '---'")
    head = parts[0][3:]
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    try:
        meta = yaml.safe_load(head) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(path, "front matter", f"not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise CorpusError(path, "front matter", "must be a YAML mapping")
    return meta, body.strip()


def _date_str(value: object, path: Path, field: str, full: bool) -> str:
    text = value.isoformat() if isinstance(value, date) else str(value).strip()
    if not PARTIAL_DATE_RE.match(text) or (full and len(text) != 10):
        want = "YYYY-MM-DD" if full else "YYYY-MM-DD, YYYY-MM or YYYY"
        raise CorpusError(path, field, f"malformed date {text!r}; use {want}")
    if len(text) == 10:
        try:
            date.fromisoformat(text)
        except ValueError:
            raise CorpusError(path, field, f"not a real date: {text!r}") from None
    return text


def _claims(value: object, path: Path) -> tuple[Claim, ...]:
    """Shape only; whether each claim is complete and found in the body is the audit's job."""
    if value in (None, []):
        return ()
    if not isinstance(value, list):
        raise CorpusError(path, "claims", "must be a list of {text, locator, quote, checked} mappings")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise CorpusError(path, f"claims[{i}]", "must be a mapping with text, locator, quote, checked")
        unknown = set(item) - set(CLAIM_FIELDS)
        if unknown:
            raise CorpusError(
                path,
                f"claims[{i}]",
                f"unknown field(s) {sorted(unknown)}; allowed: {', '.join(CLAIM_FIELDS)}",
            )
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            raise CorpusError(
                path, f"claims[{i}].text", "must be a non-empty string (a substring of one body sentence)"
            )
        out.append(Claim(**{f: str(item.get(f) or "").strip() for f in CLAIM_FIELDS}))
    return tuple(out)


def parse_document(path: Path, sources: dict[str, SourceType]) -> Document:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CorpusError(path, "-", "file is not UTF-8 text") from None
    meta, body = split_front_matter(text, path)
    for field in REQUIRED_FIELDS:
        if meta.get(field) in (None, "", []):
            raise CorpusError(path, field, "missing required citation field")
    doc_id = str(meta["id"])
    if not ID_RE.match(doc_id):
        raise CorpusError(path, "id", "use 3+ lowercase letters, digits and hyphens")
    stype = str(meta["source_type"])
    if stype not in sources:
        raise CorpusError(
            path, "source_type", f"unknown source type {stype!r}; allowed: {', '.join(sources)}"
        )
    url = str(meta["url"])
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise CorpusError(path, "url", f"must be an https URL, got {url!r}")
    if not sources[stype].allows(parsed.hostname):
        raise CorpusError(
            path,
            "url",
            f"host {parsed.hostname!r} is not allowed for source type {stype!r} (see sources.yaml)",
        )
    doi = str(meta["doi"]).strip() if meta.get("doi") else None
    pmid = str(meta["pmid"]).strip() if meta.get("pmid") else None
    required = sources[stype].requires_any_of
    if required and not any(meta.get(f) for f in required):
        raise CorpusError(path, "/".join(required), f"a {stype} source needs one of: {', '.join(required)}")
    if doi and not DOI_RE.match(doi):
        raise CorpusError(path, "doi", f"malformed DOI {doi!r}; expected 10.xxxx/...")
    if pmid and not PMID_RE.match(pmid):
        raise CorpusError(path, "pmid", f"malformed PMID {pmid!r}; expected digits")
    published = _date_str(meta["published"], path, "published", full=False)
    reviewed = date.fromisoformat(_date_str(meta["reviewed"], path, "reviewed", full=True))
    topics = meta["topics"]
    if isinstance(topics, str):
        topics = [topics]
    if not isinstance(topics, list) or not all(isinstance(t, str) and t for t in topics):
        raise CorpusError(path, "topics", "must be a list of topic names")
    if not body or not re.sub(r"[#\s\-*]", "", body):
        raise CorpusError(path, "body", "document body is empty")
    return Document(
        id=doc_id,
        title=str(meta["title"]).strip(),
        publisher=str(meta["publisher"]).strip(),
        source_type=stype,
        url=url,
        published=published,
        reviewed=reviewed,
        topics=tuple(topics),
        body=body,
        path=path,
        doi=doi,
        pmid=pmid,
        review_method=str(meta.get("review_method") or "").strip(),
        claims=_claims(meta.get("claims"), path),
    )


def load_corpus(corpus_dir: Path) -> list[Document]:
    """Load every document, or raise CorpusError for the first invalid one."""
    corpus_dir = Path(corpus_dir)
    sources = load_sources(corpus_dir)
    doc_dir = corpus_dir / "documents"
    if not doc_dir.is_dir():
        raise CorpusError(doc_dir, "-", "documents/ folder is missing")
    docs: list[Document] = []
    seen: dict[str, Path] = {}
    for path in sorted(doc_dir.glob("*.md")):
        doc = parse_document(path, sources)
        if doc.id in seen:
            raise CorpusError(path, "id", f"duplicate id {doc.id!r} (also in {seen[doc.id].name})")
        seen[doc.id] = path
        docs.append(doc)
    if not docs:
        raise CorpusError(doc_dir, "-", "no *.md documents found")
    return docs
