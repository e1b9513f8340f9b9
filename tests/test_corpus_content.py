"""The real corpus: size, no amounts, publisher spread, topic coverage, README map, clean audit."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.audit import COVERAGE_TOPICS, audit_corpus
from bot.corpus_loader import load_corpus
from bot.settings import REPO_ROOT
from guardrails.amounts import find_amounts
from tests.conftest import make_settings

CORPUS = REPO_ROOT / "corpus"
DOC_PATHS = sorted((CORPUS / "documents").glob("*.md"))


def test_corpus_has_at_least_45_documents(corpus_docs):
    assert len(corpus_docs) >= 45


@pytest.mark.parametrize("path", DOC_PATHS, ids=[p.stem for p in DOC_PATHS])
def test_document_contains_no_amount(path: Path):
    assert find_amounts(path.read_text(encoding="utf-8")) == []


def test_corpus_has_at_least_15_publishers(corpus_docs):
    publishers = {d.publisher for d in corpus_docs}
    assert len(publishers) >= 15, sorted(publishers)


def _computed_map(docs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {t: [] for t in COVERAGE_TOPICS}
    for doc in docs:
        for topic in doc.topics:
            out.setdefault(topic, []).append(doc.id)
    return {t: sorted(ids) for t, ids in out.items()}


@pytest.mark.parametrize("topic", COVERAGE_TOPICS)
def test_every_coverage_topic_has_two_documents(corpus_docs, topic):
    assert len(_computed_map(corpus_docs)[topic]) >= 2


def _readme_map() -> dict[str, list[str]]:
    text = (CORPUS / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Coverage map", 1)[1].split("\n## ", 1)[0]
    out: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("Topic", "") or set(cells[0]) <= set("-: "):
            continue
        out[cells[0]] = sorted(re.findall(r"`([^`]+)`", cells[1]))
    return out


def test_readme_coverage_map_matches_front_matter(corpus_docs):
    assert _readme_map() == _computed_map(corpus_docs)


def test_audit_of_real_corpus_is_clean(tmp_path):
    assert audit_corpus(make_settings(tmp_path, corpus_dir=CORPUS)) == []


def test_audit_flags_stale_review_and_unknown_topic(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    shutil.copy(CORPUS / "sources.yaml", corpus / "sources.yaml")
    src = CORPUS / "documents" / "fda-and-kratom.md"
    dst = corpus / "documents" / src.name
    old = (date.today() - timedelta(days=400)).isoformat()
    text = src.read_text(encoding="utf-8")
    text, n_reviewed = re.subn(r'(?m)^reviewed: .*$', f'reviewed: "{old}"', text, count=1)
    text, n_topics = re.subn(r"(?m)^topics: \[", "topics: [made-up-topic, ", text, count=1)
    assert n_reviewed == n_topics == 1
    dst.write_text(text, encoding="utf-8")
    assert load_corpus(corpus)[0].reviewed.isoformat() == old

    problems = audit_corpus(make_settings(tmp_path / "data", corpus_dir=corpus, review_max_age_days=365))
    stale = [p for p in problems if "stale" in p]
    unknown = [p for p in problems if "unknown topic" in p]
    assert len(stale) == 1 and "fda-and-kratom.md" in stale[0] and old in stale[0]
    assert len(unknown) == 1 and "fda-and-kratom.md" in unknown[0] and "made-up-topic" in unknown[0]
    # one document cannot cover a topic twice
    assert any(p.startswith("coverage:") and "'fda-actions'" in p for p in problems)


def test_audit_reports_an_unloadable_corpus_as_one_problem(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    shutil.copy(CORPUS / "sources.yaml", corpus / "sources.yaml")
    text = (CORPUS / "documents" / "fda-and-kratom.md").read_text(encoding="utf-8")
    (corpus / "documents" / "fda-and-kratom.md").write_text(
        re.sub(r"(?m)^url: .*$", "url: https://kratom-vendor.example/fda", text, count=1), encoding="utf-8"
    )
    problems = audit_corpus(make_settings(tmp_path / "data", corpus_dir=corpus))
    assert len(problems) == 1 and "fda-and-kratom.md" in problems[0] and "'url'" in problems[0]


def test_audit_flags_doi_url_that_does_not_match_doi_field(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    shutil.copy(CORPUS / "sources.yaml", corpus / "sources.yaml")
    name = "ahmad-dilin-liver-2021.md"
    text = (CORPUS / "documents" / name).read_text(encoding="utf-8")
    assert "url: https://doi.org/" in text
    (corpus / "documents" / name).write_text(
        re.sub(r"(?m)^doi: .*$", 'doi: "10.1000/not-this-article"', text, count=1), encoding="utf-8"
    )
    problems = audit_corpus(make_settings(tmp_path / "data", corpus_dir=corpus))
    assert any(name in p and "does not match doi" in p for p in problems), problems
