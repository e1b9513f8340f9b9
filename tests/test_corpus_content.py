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


def test_corpus_has_at_least_85_documents(corpus_docs):
    assert len(corpus_docs) >= 85


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
    """Clean includes the Spanish text: every English line paired, written, checked, current."""
    assert audit_corpus(make_settings(tmp_path, corpus_dir=CORPUS)) == []


def test_audit_flags_stale_review_and_unknown_topic(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    shutil.copy(CORPUS / "sources.yaml", corpus / "sources.yaml")
    src = CORPUS / "documents" / "fda-and-kratom.md"
    dst = corpus / "documents" / src.name
    old = (date.today() - timedelta(days=400)).isoformat()
    text = src.read_text(encoding="utf-8")
    text, n_reviewed = re.subn(r"(?m)^reviewed: .*$", f'reviewed: "{old}"', text, count=1)
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


# --- Claims (corpus v2): every number, date, count or legal action is backed by a claim ---


def _one_doc_corpus(tmp_path: Path, name: str, edit) -> Path:
    """A corpus holding one real document, changed by `edit(text) -> text`."""
    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    shutil.copy(CORPUS / "sources.yaml", corpus / "sources.yaml")
    text = (CORPUS / "documents" / name).read_text(encoding="utf-8")
    new = edit(text)
    assert new != text, "the edit changed nothing"
    (corpus / "documents" / name).write_text(new, encoding="utf-8")
    return corpus


def _audit(tmp_path: Path, corpus: Path) -> list[str]:
    return audit_corpus(make_settings(tmp_path / "data", corpus_dir=corpus))


@pytest.mark.parametrize(
    "sentence",
    [
        "The survey had 2,798 respondents.",
        "The FDA acted in 2014.",
        "Eleven cases of liver injury were reported.",
        "The DEA placed the compounds in Schedule I.",
        "The FDA issued a warning letter to the seller.",
        "Kratom is not a controlled substance under federal law.",
        "The company recalled its products.",
        "7-OH binds the mu-opioid receptor 14 to 22 times more strongly than morphine.",
    ],
)
def test_sentences_stating_numbers_dates_counts_or_legal_actions_need_a_claim(sentence):
    from bot.audit import needs_claim

    assert needs_claim(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "7-OH acts on the mu-opioid receptor.",
        "The enzyme CYP3A4 breaks down mitragynine.",
        "No controlled trial has tested kratom for chronic pain.",
        "People can call or text the 988 Lifeline.",
        "One of the authors disagreed.",
    ],
)
def test_plain_sentences_need_no_claim(sentence):
    from bot.audit import needs_claim

    assert not needs_claim(sentence)


def test_audit_fails_a_document_with_an_unclaimed_numeric_sentence(tmp_path):
    name = "ahmad-dilin-liver-2021.md"
    added = "The DILIN team later reported 37 more kratom cases in 2024."
    corpus = _one_doc_corpus(
        tmp_path, name, lambda t: t.replace("\n## Key facts", f"\n{added}\n\n## Key facts", 1)
    )
    problems = _audit(tmp_path, corpus)
    assert any(name in p and "unclaimed sentence" in p and "37 more kratom cases" in p for p in problems), (
        problems
    )


def test_audit_fails_a_claim_without_locator(tmp_path):
    name = "ahmad-dilin-liver-2021.md"
    corpus = _one_doc_corpus(
        tmp_path, name, lambda t: re.sub(r'(?m)^(\s+)locator: ".*"$', r'\1locator: ""', t, count=1)
    )
    problems = _audit(tmp_path, corpus)
    assert any(name in p and "no locator" in p for p in problems), problems


def test_audit_fails_a_claim_whose_text_is_not_in_the_body(tmp_path):
    name = "ahmad-dilin-liver-2021.md"
    corpus = _one_doc_corpus(
        tmp_path,
        name,
        lambda t: re.sub(r'(?m)^(\s+- )text: ".*"$', r'\1text: "a sentence no one wrote"', t, count=1),
    )
    problems = _audit(tmp_path, corpus)
    assert any(name in p and "not found in the document body" in p for p in problems), problems


def test_audit_fails_a_legal_status_document_checked_more_than_90_days_ago(tmp_path):
    name = "dea-notice-of-intent-2016.md"
    old = (date.today() - timedelta(days=120)).isoformat()
    corpus = _one_doc_corpus(
        tmp_path, name, lambda t: re.sub(r'(?m)^(\s+)checked: "\d{4}-\d{2}-\d{2}', rf'\1checked: "{old}', t)
    )
    problems = _audit(tmp_path, corpus)
    assert any(name in p and "legal status last checked" in p and old in p for p in problems), problems


def test_audit_accepts_the_same_legal_status_document_checked_recently(tmp_path):
    name = "dea-notice-of-intent-2016.md"
    recent = (date.today() - timedelta(days=10)).isoformat()
    corpus = _one_doc_corpus(
        tmp_path,
        name,
        lambda t: re.sub(r'(?m)^(\s+)checked: "\d{4}-\d{2}-\d{2}', rf'\1checked: "{recent}', t),
    )
    assert not [p for p in _audit(tmp_path, corpus) if name in p and "legal status" in p]


def test_every_document_records_how_it_was_reviewed(corpus_docs):
    assert [d.id for d in corpus_docs if not d.review_method] == []


def test_review_dates_are_honest(corpus_docs):
    """`reviewed` moves only when the facts were checked: a document marked "not re-checked since v1"
    keeps its v1 date (a partly re-checked document may also keep it), and a claim is never dated
    before the v1 review it would have to post-date."""
    v1 = date(2026, 11, 25)
    stale_marked_new = [
        d.id for d in corpus_docs if d.review_method.startswith("not re-checked") and d.reviewed != v1
    ]
    assert stale_marked_new == []
    undated_or_old = [
        (d.id, c.text) for d in corpus_docs for c in d.claims if not c.checked_on or c.checked_on < v1
    ]
    assert undated_or_old == []


HOUSE_LINES = (
    "no adequate controlled trial has shown",
    "no health authority has established a safe",
    "no health authority has set a safe",
    "health authorities have not established",
)


@pytest.mark.parametrize("path", DOC_PATHS, ids=[p.stem for p in DOC_PATHS])
def test_house_lines_live_in_policy_not_in_documents(path: Path):
    text = path.read_text(encoding="utf-8").lower()
    assert not [h for h in HOUSE_LINES if h in text]


def test_policy_carries_the_house_lines():
    import yaml

    policy = yaml.safe_load((REPO_ROOT / "guardrails" / "policy.yaml").read_text(encoding="utf-8"))
    lines = " ".join(str(v) for v in (policy.get("house_lines") or {}).values()).lower()
    assert "safe or effective dose" in lines and "chronic pain" in lines
