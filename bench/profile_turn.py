"""Where a warm turn's milliseconds go, in-process: per-step timings and a cProfile of a mix of
English, Spanish and follow-up turns (the answer set, the Spanish questions and the bench's
single messages).

    python bench/profile_turn.py [--data-dir DIR] [--repeat 3] [--profile] [--top 40]

Prints, per kind of turn, the median of one plain encode and of each step of `answer_turn`
(`Reply.timings`), then optionally the functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import bot.offline  # noqa: E402,F401
from bot.eval.dataset import read_jsonl  # noqa: E402


def conversations() -> dict[str, list[list[str]]]:
    """Kinds of turn -> user-turn lists: English single questions, follow-ups, Spanish."""
    data = REPO / "tests" / "data"
    english, follow_ups, spanish = [], [], []
    for name in ("answers_independent", "devset_a", "devset_b", "holdout", "redteam"):
        for _, row in read_jsonl(data / f"{name}.jsonl"):
            (follow_ups if len(row["turns"]) > 1 else english).append(row["turns"])
    for _, row in read_jsonl(data / "spanish_questions.jsonl"):
        spanish.append(row["turns"])
    return {"english": english[::2][:150], "follow-up": follow_ups[:60], "spanish": spanish}


def messages(turns: list[str]) -> list[dict]:
    out = []
    for i, t in enumerate(turns):
        if i:
            out.append({"role": "assistant", "content": "(an earlier answer)"})
        out.append({"role": "user", "content": t})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", help="a data dir with a built index (default: the settings' one)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="also print a cProfile of the turns")
    ap.add_argument("--top", type=int, default=45)
    ap.add_argument("--sort", default="cumulative")
    args = ap.parse_args()

    from bot.chat import answer_turn
    from bot.services import Services
    from bot.settings import load_settings

    settings = load_settings(**({"data_dir": Path(args.data_dir)} if args.data_dir else {}))
    services = Services(settings).warm()
    kinds = conversations()
    for turns in [t for ts in kinds.values() for t in ts][:40]:  # warm caches and the allocator
        answer_turn(messages(turns), services)
    enc = services.encoder
    profiler = cProfile.Profile() if args.profile else None
    for kind, convs in kinds.items():
        encode_ms, total_ms, encodes = [], [], 0
        steps: dict[str, list[float]] = {}
        routes: dict[str, int] = {}
        for _ in range(args.repeat):
            for turns in convs:  # one encode, then the turn: both meet the same load
                t = time.perf_counter()
                enc.encode_one(turns[-1])
                encode_ms.append((time.perf_counter() - t) * 1000)
                before = enc.texts_encoded
                if profiler:
                    profiler.enable()
                t = time.perf_counter()
                reply = answer_turn(messages(turns), services)
                total_ms.append((time.perf_counter() - t) * 1000)
                if profiler:
                    profiler.disable()
                encodes += enc.texts_encoded - before
                routes[reply.route] = routes.get(reply.route, 0) + 1
                for step, ms in reply.timings.steps.items():
                    steps.setdefault(step, []).append(ms)
        enc_p50, turn_p50 = statistics.median(encode_ms), statistics.median(total_ms)
        n = len(total_ms)
        print(
            f"\n{kind}: {len(convs)} conversations x {args.repeat}; routes {routes}; "
            f"texts encoded per turn {encodes / n:.2f}"
        )
        print(f"  one encode p50 {enc_p50:.2f} ms; turn p50 {turn_p50:.2f} ms = {turn_p50 / enc_p50:.2f}x")
        for step, values in steps.items():
            print(
                f"  {step:15s} ran {len(values):4d}/{n}  median {statistics.median(values):6.2f} ms"
                f"  mean {statistics.fmean(values):6.2f} ms"
            )
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
