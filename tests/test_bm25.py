"""The BM25 kept with posting lists scores every document exactly as rank_bm25's BM25Okapi."""

import numpy as np
from rank_bm25 import BM25Okapi

from bot.chunking import embedding_text
from bot.eval.dataset import read_jsonl
from bot.retrieval import BM25, tokenize
from bot.settings import REPO_ROOT
from bot.spanish import tokenize_es


def test_scores_equal_bm25okapi_float_for_float_on_the_corpus(services):
    chunks = services.retriever.chunks
    corpus = [tokenize(embedding_text(c)) for c in chunks]
    ours, theirs = BM25(corpus), BM25Okapi(corpus)
    questions = [
        row["turns"][-1]
        for name in ("devset_a", "answers_independent", "spanish_questions")
        for _, row in read_jsonl(REPO_ROOT / "tests" / "data" / f"{name}.jsonl")
    ]
    questions += ["", "kratom kratom kratom", "zzzz-not-a-word liver", "the of and"]
    for q in questions:
        for tokens in (tokenize(q), tokenize_es(q)):
            assert np.array_equal(ours.get_scores(tokens), theirs.get_scores(tokens)), q
