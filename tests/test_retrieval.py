"""Retrieval quality on the real corpus, real encoder and real Chroma index.

tests/data/retrieval_questions.jsonl and tests/data/retrieval_questions_v2.jsonl (the corpus v2 topics)
hold public-style questions, each with a topic key (`category`) and the documents that answer it
(`expected_docs`). Both files are checked together. Run with `-s` to see the figures.
"""

from __future__ import annotations

import pytest

from bot.audit import COVERAGE_TOPICS
from bot.eval.dataset import read_jsonl
from bot.query import build_query
from bot.settings import REPO_ROOT
from bot.types import Passage

QUESTIONS_PATH = REPO_ROOT / "tests" / "data" / "retrieval_questions.jsonl"
# Corpus v2: questions on the topics added for issue #13 (legal-by-place, drug-testing, ...).
QUESTIONS_V2_PATH = REPO_ROOT / "tests" / "data" / "retrieval_questions_v2.jsonl"
# the topics corpus v2 added (the coverage map lists them last), and interactions, which it extended
V2_TOPICS = set(COVERAGE_TOPICS[COVERAGE_TOPICS.index("legal-by-place") :]) | {"interactions"}


def _load(path) -> list[dict]:
    return [row for _, row in read_jsonl(path)]


QUESTIONS_V1 = _load(QUESTIONS_PATH)
QUESTIONS_V2 = _load(QUESTIONS_V2_PATH)
QUESTIONS = QUESTIONS_V1 + QUESTIONS_V2
K = 5
MIN_TOPIC_HIT_RATE = 0.95


def retrieve(services, turns: list[str], k: int = K) -> list[Passage]:
    query = build_query(turns)
    return services.retriever.search(query, services.encoder.encode_one(query), k=k)


@pytest.fixture(scope="module")
def results(services) -> dict[str, list[str]]:
    """Question id -> doc ids of its top-5 passages, in rank order."""
    return {q["id"]: [p.doc_id for p in retrieve(services, q["turns"])] for q in QUESTIONS}


@pytest.fixture(scope="module")
def topics_of(corpus_docs) -> dict[str, tuple[str, ...]]:
    return {d.id: d.topics for d in corpus_docs}


def test_v2_questions_cover_the_new_topics():
    assert len(QUESTIONS_V2) >= 30
    assert {q["category"] for q in QUESTIONS_V2} <= V2_TOPICS
    # every v2 topic is asked about
    assert {q["category"] for q in QUESTIONS_V2} == V2_TOPICS


def test_questions_file_is_well_formed(topics_of):
    assert len(QUESTIONS_V1) >= 60
    assert len({q["id"] for q in QUESTIONS}) == len(QUESTIONS)
    for q in QUESTIONS:
        assert q["category"] in COVERAGE_TOPICS, q["id"]
        assert q["turns"] and all(isinstance(t, str) and t.strip() for t in q["turns"]), q["id"]
        assert q["expected_docs"] and set(q["expected_docs"]) <= set(topics_of), q["id"]


def test_top5_contains_a_document_on_the_question_topic(results, topics_of):
    misses = []
    for q in QUESTIONS:
        got = results[q["id"]]
        if not any(q["category"] in topics_of[d] for d in got):
            misses.append(f"  {q['id']} [{q['category']}] {q['turns']!r}\n    got: {got}")
    rate = 1 - len(misses) / len(QUESTIONS)
    print(f"\ntopic hit@{K}: {rate:.3f} ({len(QUESTIONS) - len(misses)}/{len(QUESTIONS)})")
    if misses:
        print("topic misses:\n" + "\n".join(misses))
    assert rate >= MIN_TOPIC_HIT_RATE, f"topic hit@{K} {rate:.3f} < {MIN_TOPIC_HIT_RATE}:\n" + "\n".join(
        misses
    )


def test_expected_docs_hit_at_5_is_reported(results):
    hits = [q for q in QUESTIONS if set(results[q["id"]]) & set(q["expected_docs"])]
    rate = len(hits) / len(QUESTIONS)
    print(f"\nexpected-doc hit@{K}: {rate:.3f} ({len(hits)}/{len(QUESTIONS)})  [report only]")
    for q in QUESTIONS:
        if q not in hits:
            print(f"  miss {q['id']}: expected {q['expected_docs']} got {results[q['id']]}")
    assert 0.0 <= rate <= 1.0


def test_fda_approval_question_gets_an_fda_document_first(services, corpus_docs):
    passages = retrieve(services, ["Is kratom approved by the FDA?"])
    source_type = {d.id: d.source_type for d in corpus_docs}
    assert passages, "no passages for an on-topic question"
    print(f"\nFDA question top {K}: {[p.doc_id for p in passages]}")
    assert source_type[passages[0].doc_id] == "fda", [p.doc_id for p in passages]


def test_off_topic_question_returns_no_passages(services):
    passages = retrieve(services, ["what is the capital of France?"])
    assert passages == [], [(p.doc_id, round(p.similarity, 3)) for p in passages]
