"""Ingest promises: incremental by content hash, atomic switch, clear failures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.corpus_loader import CorpusError
from bot.index import open_index
from bot.ingest import ingest
from bot.retrieval import Retriever
from bot.settings import REPO_ROOT
from tests.conftest import make_settings

SOURCES = [
    "fda-and-kratom",
    "livertox-kratom",
    "cdc-mmwr-poison-centers-2016",
    "ahmad-dilin-liver-2021",
    "tanna-interaction-study-2023",
]


class CountingEncoder:
    """The real encoder, counting texts; optionally failing after N texts (an injected crash)."""

    def __init__(self, real, fail_after: int | None = None):
        self.real, self.fail_after, self.texts = real, fail_after, 0
        self.model_name, self.dimension = real.model_name, real.dimension

    def encode(self, texts, batch_size: int = 64):
        if self.fail_after is not None and self.texts + len(texts) > self.fail_after:
            raise RuntimeError("injected failure halfway through the ingest")
        self.texts += len(texts)
        return self.real.encode(texts)

    def encode_one(self, text):
        return self.encode([text])[0]

    def embed_documents(self, texts):
        return self.real.embed_documents(texts)

    def embed_query(self, text):
        return self.real.embed_query(text)


@pytest.fixture()
def small_corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "corpus" / "sources.yaml", corpus / "sources.yaml")
    for doc_id in SOURCES:
        shutil.copy(REPO_ROOT / "corpus" / "documents" / f"{doc_id}.md", corpus / "documents")
    return corpus


def _setup(tmp_path, small_corpus, encoder, **kw):
    settings = make_settings(tmp_path / "data", corpus_dir=small_corpus, **kw)
    return settings, CountingEncoder(encoder), open_index(settings)


def composer_texts(index) -> set[str]:
    """The distinct sentences and question headings the composer needs vectors for."""
    from bot.compose import sentence_table

    _, sentences, _, headings = sentence_table([r.chunk for r in index.records() if r.chunk.lang == "en"])
    return {("s", t) for t in sentences} | {("h", t) for t in headings}


def test_first_ingest_embeds_every_chunk_and_reports(tmp_path, small_corpus, encoder):
    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    report = ingest(settings, enc, index, progress=False)
    assert report.documents == 5 and report.added == 5 and report.switched
    assert report.chunks == report.encoded_chunks == index.stats()["chunks"] > 5
    # every chunk, then (once) every sentence and heading the composer will need
    assert enc.texts == report.chunks + len(composer_texts(index))
    assert "5 documents" in report.summary() and "added" in report.summary()


def test_unchanged_corpus_embeds_nothing(tmp_path, small_corpus, encoder):
    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    ingest(settings, enc, index, progress=False)
    before = enc.texts
    report = ingest(settings, enc, index, progress=False)
    assert enc.texts == before
    assert (report.unchanged, report.added, report.updated, report.switched) == (5, 0, 0, False)


def test_only_the_changed_document_is_re_embedded(tmp_path, small_corpus, encoder):
    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    ingest(settings, enc, index, progress=False)
    path = small_corpus / "documents" / "livertox-kratom.md"
    path.write_text(path.read_text() + "\n## Added section\nKratom liver injury is rare, LiverTox says.\n")
    from bot.chunking import chunk_document
    from bot.corpus_loader import load_sources, parse_document

    expected = len(chunk_document(parse_document(path, load_sources(small_corpus))))
    before, old_texts = enc.texts, composer_texts(index)
    report = ingest(settings, enc, index, progress=False)
    # the changed document's chunks, and only the sentences and headings not seen before
    assert enc.texts - before == expected + len(composer_texts(index) - old_texts) > expected
    assert (report.updated, report.unchanged, report.version) == (1, 4, 2)
    texts = [r.chunk.text for r in index.records()]
    assert any("Kratom liver injury is rare, LiverTox says." in t for t in texts)


def test_removed_document_is_deleted_from_the_index(tmp_path, small_corpus, encoder):
    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    ingest(settings, enc, index, progress=False)
    (small_corpus / "documents" / "tanna-interaction-study-2023.md").unlink()
    report = ingest(settings, enc, index, progress=False)
    assert report.removed == 1 and report.unchanged == 4
    assert "tanna-interaction-study-2023" not in {r.chunk.doc_id for r in index.records()}


def test_failed_ingest_leaves_the_previous_index_answering(tmp_path, small_corpus, encoder):
    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    ingest(settings, enc, index, progress=False)
    retriever = Retriever(index, encoder)
    question = "Has the FDA approved kratom?"
    before = [p.chunk.chunk_id for p in retriever.search(question, encoder.encode_one(question))]
    stats = index.stats()
    for path in (small_corpus / "documents").glob("*.md"):  # every document changes ...
        path.write_text(path.read_text() + "\nKratom note added for a re-ingest.\n")
    crashing = CountingEncoder(encoder, fail_after=3)  # ... and the encoder dies halfway
    with pytest.raises(RuntimeError, match="injected failure"):
        ingest(settings, crashing, index, progress=False)
    assert index.stats() == stats
    fresh = Retriever(open_index(settings), encoder)
    assert [p.chunk.chunk_id for p in fresh.search(question, encoder.encode_one(question))] == before
    assert before and before[0].startswith("fda-")


def test_invalid_corpus_is_refused_before_touching_the_index(tmp_path, small_corpus, encoder):
    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    ingest(settings, enc, index, progress=False)
    stats = index.stats()
    (small_corpus / "documents" / "broken.md").write_text("---\nid: broken\n---\nbody\n")
    with pytest.raises(CorpusError) as err:
        ingest(settings, enc, index, progress=False)
    assert "broken.md" in str(err.value)
    assert index.stats() == stats


def test_changing_the_model_re_embeds_everything(tmp_path, small_corpus, encoder):
    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    first = ingest(settings, enc, index, progress=False)
    enc.model_name = enc.model_name + "-other"
    before = enc.texts
    second = ingest(settings, enc, index, progress=False)
    assert second.encoded_chunks == first.chunks
    assert enc.texts - before == first.chunks + len(composer_texts(index))  # sentence vectors too


def test_stale_documents_lists_changed_and_removed_documents(tmp_path, small_corpus, encoder):
    from bot.ingest import stale_documents

    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    ingest(settings, enc, index, progress=False)
    assert stale_documents(settings, enc, index) == []
    path = small_corpus / "documents" / "livertox-kratom.md"
    path.write_text(path.read_text() + "\nKratom stale-check note.\n")
    (small_corpus / "documents" / "tanna-interaction-study-2023.md").unlink()
    assert stale_documents(settings, enc, index) == ["livertox-kratom", "tanna-interaction-study-2023"]


def test_ask_updates_an_out_of_date_embedded_index_first(tmp_path, small_corpus, encoder):
    import os
    import subprocess
    import sys

    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    ingest(settings, enc, index, progress=False)
    path = small_corpus / "documents" / "livertox-kratom.md"
    path.write_text(
        path.read_text() + "\n## New section\nKratom liver updates are picked up before answering.\n"
    )
    env = {**os.environ, "KQA_DATA_DIR": str(settings.data_dir), "KQA_CORPUS_DIR": str(small_corpus)}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "can kratom hurt the liver?"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "Corpus changed; index updated" in out.stderr and "1 updated" in out.stderr


def _with_spanish(corpus: Path, doc_ids: list[str]) -> None:
    (corpus / "es").mkdir(exist_ok=True)
    for doc_id in doc_ids:
        shutil.copy(REPO_ROOT / "corpus" / "es" / f"{doc_id}.yaml", corpus / "es")


def test_spanish_lines_are_indexed_and_re_embedded_alone_when_edited(tmp_path, small_corpus, encoder):
    """A document's Spanish lines are a unit of their own: editing the Spanish file re-embeds only
    those lines, bumps the index version, and `stale_documents` names the document."""
    import yaml

    from bot.corpus_es import load_spanish, spanish_chunks
    from bot.corpus_loader import load_corpus
    from bot.ingest import stale_documents

    _with_spanish(small_corpus, ["livertox-kratom", "fda-and-kratom"])
    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    first = ingest(settings, enc, index, progress=False)
    docs = {d.id: d for d in load_corpus(small_corpus)}
    spanish = load_spanish(small_corpus, list(docs.values()))
    lines = {d: len(spanish_chunks(docs[d], spanish[d])) for d in spanish}
    assert all(n > 3 for n in lines.values())
    stored = [r.chunk for r in index.records()]
    assert sum(c.lang == "es" for c in stored) == sum(lines.values()) and first.spanish_updated == 2
    assert enc.texts == first.chunks + len(composer_texts(index))  # Spanish lines need no sentence vectors

    path = small_corpus / "es" / "livertox-kratom.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["key_facts"][0]["es"] = raw["key_facts"][0]["es"].rstrip(".") + ", según LiverTox."
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert stale_documents(settings, enc, index) == ["livertox-kratom"]
    before = enc.texts
    second = ingest(settings, enc, index, progress=False)
    assert enc.texts - before == lines["livertox-kratom"]  # only that document's Spanish lines
    assert (second.spanish_updated, second.updated, second.unchanged, second.version) == (
        1,
        0,
        5,
        first.version + 1,
    )
    assert any(
        c.text.endswith("según LiverTox.") for c in (r.chunk for r in index.records()) if c.lang == "es"
    )
    retriever = Retriever(index, encoder)
    assert retriever.es_chunks and not any(c.lang == "es" for c in retriever.chunks)


def test_ingest_caches_the_composers_sentence_vectors_so_a_start_encodes_none(
    tmp_path, small_corpus, encoder
):
    """Issue #15: sentence and heading vectors are request-independent: ingest computes them and
    caches them beside the index, so building the composer at start-up encodes nothing."""
    from bot.compose import ExtractiveComposer

    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    ingest(settings, enc, index, progress=False)
    assert list((settings.data_dir / "cache").glob("sentences-*.npz"))
    before = enc.texts
    chunks = [r.chunk for r in index.records()]
    composer = ExtractiveComposer(enc, list(reversed(chunks)), settings.data_dir / "cache")
    assert enc.texts == before
    fresh = ExtractiveComposer(enc, chunks, None)  # no cache: encodes them itself
    assert enc.texts > before
    for chunk_id, rows in fresh.sentences.items():
        for a, b in zip(rows, composer.sentences[chunk_id]):
            assert abs(float(fresh.matrix[a.row] @ composer.matrix[b.row]) - 1.0) < 1e-4


def test_a_warm_start_skips_the_ingest_only_while_the_corpus_files_are_unchanged(
    tmp_path, small_corpus, encoder, monkeypatch
):
    """issue #15: `serve` on an index built from exactly the files on disk checks no rows; any
    edit to the corpus folder (or another index version) sends it through the ingest again."""
    import bot.ingest
    from bot.cli import ensure_index
    from bot.ingest import up_to_date
    from bot.services import Services

    settings, enc, index = _setup(tmp_path, small_corpus, encoder)
    assert not up_to_date(settings, index, enc.model_name)  # no index yet
    ingest(settings, enc, index, progress=False)
    assert up_to_date(settings, index, enc.model_name)
    assert not up_to_date(settings, index, "another-model")

    calls = []
    real_ingest = bot.ingest.ingest
    monkeypatch.setattr(bot.ingest, "ingest", lambda *a, **k: calls.append(1) or real_ingest(*a, **k))
    services = Services(settings, encoder=encoder)
    ensure_index(services, progress=False)
    assert calls == []  # up to date: no ingest at all

    (small_corpus / "documents" / "livertox-kratom.md").write_text(
        (small_corpus / "documents" / "livertox-kratom.md").read_text() + "\nKratom stamp edit.\n"
    )
    assert not up_to_date(settings, index, enc.model_name)
    ensure_index(services, progress=False)
    assert calls == [1] and up_to_date(settings, index, enc.model_name)

    (small_corpus / "glossary_es.yaml").write_text("{}\n")  # any file under the corpus folder counts
    assert not up_to_date(settings, index, enc.model_name)
