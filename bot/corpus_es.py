"""Spanish text of the corpus: `corpus/es/<doc id>.yaml`, one per English document.

Each file pairs the document's English lines with Spanish text written in our own words:
every section's heading and first sentence (its bottom line) and every `## Key facts` bullet.
A Spanish line keeps its English line's citation, so it is shown only while its English line is
still the document's current text (`en` equal to the English, word for word). `load_spanish`
refuses a malformed file (CorpusError naming file and field); `spanish_problems` lists, one line
each, what the audit reports: stale pairings, English lines without Spanish text, numbers the
English line does not have, dose-like amounts, and translations nobody has checked.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from bot.chunking import sections
from bot.corpus_loader import CorpusError, Document
from guardrails.amounts import find_amounts

ES_DIR = "es"
FILE_FIELDS = {"id", "lang", "written_by", "checked_by", "sections", "key_facts"}
SECTION_FIELDS = {"heading", "heading_es", "bottom_line", "bottom_line_es"}
FACT_FIELDS = {"en", "es"}
KEY_FACTS_HEADING = "key facts"
NUMBER_RE = re.compile(r"\d+")
UNTRANSLATED = "untranslated"  # the audit's word for an English line with no Spanish text yet


@dataclass(frozen=True)
class EnglishLines:
    """What a document offers for translation: (heading, first sentence) per section, and key facts."""

    sections: tuple[tuple[str, str], ...]
    key_facts: tuple[str, ...]


def english_lines(doc: Document) -> EnglishLines:
    from bot.compose import split_sentences  # lazy: keeps `corpus validate` light

    secs, facts = [], []
    for heading, text in sections(doc.body):
        if heading.strip().lower() == KEY_FACTS_HEADING:
            facts += [
                ln.strip()[2:].strip() for ln in text.splitlines() if ln.strip().startswith(("- ", "* "))
            ]
            continue
        first = split_sentences(text)
        if first:
            secs.append((heading, first[0]))
    return EnglishLines(tuple(secs), tuple(facts))


@dataclass(frozen=True)
class EsLine:
    """One English line and its Spanish text. `kind` is a section's bottom line or a key fact."""

    doc_id: str
    kind: Literal["bottom_line", "key_fact"]
    position: int  # order in the file (section index, or key-fact index)
    heading: str  # the English section heading ("Key facts" for a key fact)
    heading_es: str
    en: str
    es: str


@dataclass(frozen=True)
class SpanishDoc:
    id: str
    path: Path
    written_by: str
    checked_by: str
    lines: tuple[EsLine, ...]

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]


def _text(value: object, path: Path, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CorpusError(path, field, "must be text")
    return value.strip()


def parse_spanish(path: Path, doc_ids: set[str]) -> SpanishDoc:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CorpusError(path, "-", "file is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise CorpusError(path, "-", f"not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise CorpusError(path, "-", "must be a YAML mapping with id, lang, sections, key_facts")
    unknown = set(raw) - FILE_FIELDS
    if unknown:
        raise CorpusError(
            path, sorted(unknown)[0], f"unknown field; allowed: {', '.join(sorted(FILE_FIELDS))}"
        )
    doc_id = _text(raw.get("id"), path, "id")
    if doc_id not in doc_ids:
        raise CorpusError(path, "id", f"{doc_id!r} is not the id of a document in corpus/documents/")
    if path.stem != doc_id:
        raise CorpusError(path, "id", f"file name must be the document id ({doc_id}.yaml)")
    if raw.get("lang") != "es":
        raise CorpusError(path, "lang", "must be 'es'")
    lines: list[EsLine] = []
    for key, fields in (("sections", SECTION_FIELDS), ("key_facts", FACT_FIELDS)):
        items = raw.get(key) or []
        if not isinstance(items, list):
            raise CorpusError(path, key, "must be a list of mappings")
        for i, item in enumerate(items):
            where = f"{key}[{i}]"
            if not isinstance(item, dict):
                raise CorpusError(path, where, f"must be a mapping with {', '.join(sorted(fields))}")
            extra = set(item) - fields
            if extra:
                raise CorpusError(
                    path,
                    f"{where}.{sorted(extra)[0]}",
                    f"unknown field; allowed: {', '.join(sorted(fields))}",
                )
            if key == "sections":
                lines.append(
                    EsLine(
                        doc_id,
                        "bottom_line",
                        i,
                        _text(item.get("heading"), path, f"{where}.heading"),
                        _text(item.get("heading_es"), path, f"{where}.heading_es"),
                        _text(item.get("bottom_line"), path, f"{where}.bottom_line"),
                        _text(item.get("bottom_line_es"), path, f"{where}.bottom_line_es"),
                    )
                )
            else:
                lines.append(
                    EsLine(
                        doc_id,
                        "key_fact",
                        i,
                        "Key facts",
                        "Datos clave",
                        _text(item.get("en"), path, f"{where}.en"),
                        _text(item.get("es"), path, f"{where}.es"),
                    )
                )
    return SpanishDoc(
        doc_id,
        path,
        _text(raw.get("written_by"), path, "written_by"),
        _text(raw.get("checked_by"), path, "checked_by"),
        tuple(lines),
    )


def load_spanish(corpus_dir: Path, docs: list[Document]) -> dict[str, SpanishDoc]:
    """Document id -> its Spanish text ({} when corpus/es/ does not exist); CorpusError on a bad file."""
    folder = Path(corpus_dir) / ES_DIR
    if not folder.is_dir():
        return {}
    ids = {d.id for d in docs}
    return {sp.id: sp for sp in (parse_spanish(p, ids) for p in sorted(folder.glob("*.yaml")))}


def _number_problem(line: EsLine) -> str:
    """Numbers in the Spanish line that its English line does not have ('' when none)."""
    english = NUMBER_RE.findall(line.en)
    extra = [n for n in NUMBER_RE.findall(line.es) if n not in english]
    return ", ".join(extra)


def line_problem(line: EsLine, current: set[str]) -> str:
    """Why a written Spanish line may not be shown ('' when it may): stale, numbers, amounts."""
    if line.en not in current:
        return "stale: its English line is no longer in the document"
    extra = _number_problem(line)
    if extra:
        return f"number(s) not in the English line: {extra}"
    amounts = find_amounts(line.es) + (find_amounts(line.heading_es) if line.kind == "bottom_line" else [])
    if amounts:
        return f"dose-like amount(s): {', '.join(repr(a) for a in amounts)}"
    return ""


def usable_lines(sp: SpanishDoc, doc: Document) -> list[EsLine]:
    """The Spanish lines the bot may show: written, paired with current English, no number or amount problem."""
    eng = english_lines(doc)
    current = {s for _, s in eng.sections} | set(eng.key_facts)
    return [ln for ln in sp.lines if ln.es and not line_problem(ln, current)]


def spanish_problems(sp: SpanishDoc | None, doc: Document, name: str) -> list[str]:
    """Audit lines for one document's Spanish text (name = the file as shown to the user)."""
    eng = english_lines(doc)
    current = {s for _, s in eng.sections} | set(eng.key_facts)
    if sp is None:
        n = len(eng.sections) + len(eng.key_facts)
        return [f"{name}: {UNTRANSLATED}: no Spanish file for document {doc.id} ({n} English lines)"]
    out: list[str] = []
    paired = {ln.en for ln in sp.lines}
    for ln in sp.lines:
        field = f"sections[{ln.position}]" if ln.kind == "bottom_line" else f"key_facts[{ln.position}]"
        if ln.en not in current:
            out.append(
                f"{name}: {field}: stale translation: its English line is no longer in {doc.id}: {ln.en[:70]!r}"
            )
            continue
        if not ln.es:
            out.append(f"{name}: {field}: {UNTRANSLATED}: English line has no Spanish text: {ln.en[:70]!r}")
            continue
        problem = line_problem(ln, current)
        if problem:
            out.append(f"{name}: {field}: {problem}")
        if ln.kind == "bottom_line" and not ln.heading_es:
            out.append(
                f"{name}: {field}.heading_es: {UNTRANSLATED}: heading has no Spanish text: {ln.heading!r}"
            )
    for heading, sentence in eng.sections:
        if sentence not in paired:
            out.append(
                f"{name}: {UNTRANSLATED}: section {heading!r} of {doc.id} has no Spanish pairing (add it to sections)"
            )
    for fact in eng.key_facts:
        if fact not in paired:
            out.append(f"{name}: {UNTRANSLATED}: key fact of {doc.id} has no Spanish pairing: {fact[:70]!r}")
    if any(ln.es for ln in sp.lines) and not sp.checked_by:
        out.append(
            f"{name}: checked_by is empty: a second reader must check each line against its English meaning"
        )
    return out


def spanish_chunks(doc: Document, sp: SpanishDoc) -> list:
    """One indexed chunk per usable Spanish line: its Spanish heading + line, its English twin, the
    document's citation fields. Ids `<doc>#es-b<n>` (section n's bottom line) and `<doc>#es-k<n>` (key fact n)."""
    from bot.types import Chunk

    usable = set(usable_lines(sp, doc))
    return [
        Chunk(
            chunk_id=f"{doc.id}#es-{'b' if ln.kind == 'bottom_line' else 'k'}{ln.position}",
            doc_id=doc.id,
            title=doc.title,
            heading=ln.heading_es or ln.heading,
            publisher=doc.publisher,
            year=doc.year,
            url=doc.url,
            text=ln.es,
            lang="es",
            twin=ln.en,
        )
        for ln in sp.lines
        if ln in usable
    ]
