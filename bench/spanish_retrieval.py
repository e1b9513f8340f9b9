"""Spanish retrieval, measured: hit@5 and MRR of each document ranking and of fusions, per dataset.

    python bench/spanish_retrieval.py tests/data/spanish_questions.jsonl [--corpus DIR] [--out FILE]

Modes (bot/spanish.py): `bm25_es` BM25 over the Spanish lines (Snowball stems, accents folded);
`dense_es` all-MiniLM-L6-v2 cosine between the Spanish question and the Spanish lines;
`bridge_bm25_en` the question's glossary terms (corpus/glossary_es.yaml) by BM25 in the English
chunks; `dense_en` the Spanish question's vector against the English chunks. The query is built
from the conversation as a turn builds it, and encoded once, as a turn does.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

import bot.offline  # noqa: F401
from bot.eval import load_dataset
from bot.ingest import ingest
from bot.query import build_query
from bot.services import Services
from bot.settings import REPO_ROOT, Settings
from bot.spanish import MODE_WEIGHTS, MODES, RRF_K


def fuse(
    rankings: dict[str, list[str]], modes: tuple[str, ...], weights: dict[str, float] | None = None
) -> list[str]:
    fused: dict[str, float] = {}
    for m in modes:
        for rank, d in enumerate(rankings.get(m, [])):
            fused[d] = fused.get(d, 0.0) + (weights or {}).get(m, 1.0) / (RRF_K + rank + 1)
    return [d for d, _ in sorted(fused.items(), key=lambda kv: -kv[1])]


def measure(services: Services, items, k: int = 5) -> dict[str, dict[str, float]]:
    combos = [(m,) for m in MODES] + list(itertools.combinations(MODES, 2)) + [MODES[:3], MODES]
    half = MODE_WEIGHTS  # the English-only model's vote on Spanish text counts less (bot/spanish.py)
    hits = {c: [] for c in combos + [("weighted",) + MODES[:3]]}
    for item in items:
        if not item.expected_docs:
            continue
        query = build_query(list(item.turns))
        vector = services.encoder.encode_one(query)
        rankings = services.spanish.rankings(query, vector)
        for c in hits:
            docs = fuse(rankings, c[1:], half)[:k] if c[0] == "weighted" else fuse(rankings, c)[:k]
            rank = next((i + 1 for i, d in enumerate(docs) if d in item.expected_docs), None)
            hits[c].append(1.0 / rank if rank else 0.0)
    return {
        "+".join(c): {
            "hit_at_5": round(sum(v > 0 for v in vals) / len(vals), 3),
            "mrr": round(sum(vals) / len(vals), 3),
            "n": len(vals),
        }
        for c, vals in hits.items()
        if vals
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets", nargs="+")
    ap.add_argument("--corpus", default=str(REPO_ROOT / "corpus"))
    ap.add_argument("--out", default="")
    ap.add_argument("--data-dir", default="", help="reuse this index folder (default: a fresh temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        services = Services(
            Settings(_env_file=None, data_dir=Path(args.data_dir or tmp), corpus_dir=Path(args.corpus))
        )
        ingest(services.settings, services.encoder, services.index, progress=False)
        results = {Path(d).name: measure(services, load_dataset(Path(d))) for d in args.datasets}
    text = json.dumps(results, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
