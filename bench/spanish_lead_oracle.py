"""Where the Spanish bottom-line misses come from: for each item whose first sentence misses its
`bottom_line_any`, was a line naming one of them among the lines the lead was chosen from?

    python bench/spanish_lead_oracle.py tests/data/spanish_dev.jsonl [more sets] [-v]

Each miss is counted once as: `bottom_line_available` (a section's bottom line among the candidates
names the expected words: the lead choice missed it), `key_fact_available` (only a key fact does),
`none_available` (retrieval or the corpus lacks it), or `not_composed` (no Spanish composition ran:
an urgent route, a refusal, a safety header or the English composer). Uses the index in the current
data dir (`python -m bot ingest` first).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import bot.offline  # noqa: F401
import bot.spanish as spanish
from bot.eval import corpus_texts, in_process_target, judge, load_dataset, play, urgent_numbers
from bot.services import Services
from bot.settings import Settings
from guardrails.policy import load_policy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="+")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each miss with its candidates")
    args = ap.parse_args()
    settings = Settings()
    services = Services(settings)
    target = in_process_target(services)
    documents = corpus_texts(settings.corpus_dir)
    urgent = urgent_numbers(load_policy(settings.policy_path), settings.locale)
    seen: dict[str, object] = {}
    choose = spanish.choose_bottom

    def recording(search, focused, *rest):  # type: ignore[no-untyped-def]
        chosen = choose(search, focused, *rest)
        seen["candidates"] = [
            (spanish._line_kind(ln.chunk), ln.chunk.heading, ln.chunk.text) for ln in focused
        ]
        seen["chosen"] = chosen.chunk.text if chosen else ""
        return chosen

    spanish.choose_bottom = recording  # type: ignore[assignment]
    totals: dict[str, dict[str, int]] = {}
    for path in args.datasets:
        counts = dict.fromkeys(
            (
                "items",
                "misses",
                "bottom_line_available",
                "key_fact_available",
                "none_available",
                "not_composed",
            ),
            0,
        )
        for item in load_dataset(Path(path)):
            if not item.bottom_line_any:
                continue
            counts["items"] += 1
            seen.clear()
            result, _, _ = play(item, target)
            if judge(item, result, documents, urgent).bottom_line_ok is not False:
                continue
            counts["misses"] += 1
            if "candidates" not in seen:
                counts["not_composed"] += 1
                continue
            wanted = [w.lower() for w in item.bottom_line_any]
            good = [c for c in seen["candidates"] if any(w in c[2].lower() for w in wanted)]  # type: ignore[attr-defined]
            kind = (
                "bottom_line_available"
                if any(c[0] == "bottom_line" for c in good)
                else "key_fact_available"
                if good
                else "none_available"
            )
            counts[kind] += 1
            if args.verbose:
                print(f"{item.id} [{kind}] {item.turns[-1][:100]}\n   chosen: {str(seen['chosen'])[:140]}")
                for c in good[:3]:
                    print(f"   could: {c[0]} | {c[1][:50]} | {c[2][:110]}")
        totals[Path(path).stem] = counts
    print(json.dumps(totals, indent=1))


if __name__ == "__main__":
    main()
