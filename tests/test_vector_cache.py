"""The vector cache shipped with the corpus (corpus/vectors.npz, bot/vector_cache.py): its vectors
are the model's, it covers the corpus as committed, and an edited text misses it and is encoded."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.audit import vector_cache_problems
from bot.chunking import embedding_text
from bot.compose import split_sentences
from bot.index import open_index
from bot.ingest import ingest
from bot.settings import REPO_ROOT
from bot.vector_cache import FILE, ShippedVectors, corpus_texts_to_encode, missing_texts
from tests.conftest import make_settings
from tests.test_ingest import CountingEncoder, composer_texts, small_corpus  # noqa: F401  (a fixture)

SHIPPED = REPO_ROOT / "corpus" / FILE


def test_the_shipped_cache_covers_the_corpus(tmp_path):
    settings = make_settings(tmp_path / "data")
    missing, total = missing_texts(settings)
    assert total > 1000
    assert missing == 0, (
        f"corpus/{FILE} lacks {missing} of {total} texts: run `kratom-qa corpus vectors` and commit it"
    )
    assert vector_cache_problems(settings) == []


def test_cached_vectors_equal_a_fresh_encode(tmp_path, encoder):
    settings = make_settings(tmp_path / "data")
    texts = random.Random(15).sample(corpus_texts_to_encode(settings, encoder.model_name), 48)
    shipped = ShippedVectors.load(settings.corpus_dir, encoder.model_name, encoder.dimension)
    cached = np.asarray([shipped.get(t) for t in texts])
    assert shipped.hits == len(texts)
    assert cached.dtype == np.float32
    assert np.abs(cached - encoder.encode(texts)).max() < 1e-5


@pytest.fixture()
def corpus_with_cache(small_corpus) -> Path:  # noqa: F811  (the fixture imported above)
    """test_ingest's small corpus, with the shipped vector cache beside it."""
    shutil.copy(SHIPPED, small_corpus / FILE)
    return small_corpus


def test_a_fresh_ingest_reads_the_cache_and_encodes_only_an_edited_text(tmp_path, corpus_with_cache, encoder):
    settings = make_settings(tmp_path / "data", corpus_dir=corpus_with_cache)
    enc, index = CountingEncoder(encoder), open_index(settings)
    first = ingest(settings, enc, index, progress=False)
    assert enc.texts == 0 and first.encoded_chunks == 0
    assert first.from_cache == first.chunks + len(composer_texts(index))
    assert f"{first.from_cache} vectors from the corpus's vector cache" in first.summary()

    doc = corpus_with_cache / "documents" / "livertox-kratom.md"
    before = {r.chunk.chunk_id: r.chunk for r in index.records()}
    text = doc.read_text()
    sentence = next(
        s
        for c in before.values()
        if c.doc_id == "livertox-kratom"
        for s in split_sentences(c.text)
        if s in text and text.count(s) == 1 and len(s.split()) > 8
    )
    edited = sentence + " (edited for the test)"
    doc.write_text(text.replace(sentence, edited, 1))
    assert (
        vector_cache_problems(settings) and "kratom-qa corpus vectors" in vector_cache_problems(settings)[0]
    )

    fresh = make_settings(tmp_path / "fresh", corpus_dir=corpus_with_cache)
    enc2, index2 = CountingEncoder(encoder), open_index(fresh)
    second = ingest(fresh, enc2, index2, progress=False)
    rows = {r.chunk.chunk_id: r for r in index2.records(with_embeddings=True)}
    changed = [r for r in rows.values() if edited in r.chunk.text]
    assert len(changed) == 1 and second.encoded_chunks == 1
    # the edited chunk and its edited sentence are encoded; every other vector comes from the cache
    assert enc2.texts == second.chunks + len(composer_texts(index2)) - second.from_cache
    assert 2 <= enc2.texts <= 3
    vector = np.asarray(changed[0].embedding, dtype=np.float32)
    assert np.abs(vector - encoder.encode([embedding_text(changed[0].chunk)])[0]).max() < 1e-5


def test_corpus_vectors_rewrites_the_cache_for_the_corpus_as_it_is(
    tmp_path, corpus_with_cache, monkeypatch, capsys
):
    from bot.cli import main

    doc = corpus_with_cache / "documents" / "fda-and-kratom.md"
    doc.write_text(
        doc.read_text().replace(
            "\n## ",
            "\n## Edited for the test: what is new?\n\nA new line written only for this test.\n\n## ",
            1,
        )
    )
    settings = make_settings(tmp_path / "data", corpus_dir=corpus_with_cache)
    assert missing_texts(settings)[0] > 0
    monkeypatch.setenv("KQA_CORPUS_DIR", str(corpus_with_cache))
    monkeypatch.setenv("KQA_DATA_DIR", str(tmp_path / "data"))
    assert main(["corpus", "vectors"]) == 0
    missing, total = missing_texts(settings)
    assert missing == 0
    out = capsys.readouterr().out
    assert f"{total} vectors (" in out and "newly encoded" in out
    with np.load(corpus_with_cache / FILE) as stored:
        assert len(stored["keys"]) == total  # only this corpus's texts: the rest were dropped
    assert vector_cache_problems(settings) == []
