"""Turn p50 / one-encode p50, repeated: the in-process speed target on a shared machine.

    python bench/turn_ratios.py [REPEATS]

Runs `bench/run.py`'s English questions and Spanish questions, and `bench/profile_turn.py`'s
follow-ups, each turn beside one encode of its last message (both meet the same load), REPEATS
times; prints each repetition's ratio and per-step medians, then the median ratio with its range.
Uses the settings' data dir (KQA_DATA_DIR) with a built index.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from profile_turn import conversations, messages  # noqa: E402
from run import questions, spanish_questions  # noqa: E402

import bot.offline  # noqa: E402,F401


def main() -> int:
    from bot.chat import answer_turn
    from bot.services import Services
    from bot.settings import load_settings

    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    services = Services(load_settings()).warm()
    enc = services.encoder
    qs = questions()
    for q in qs[:20]:  # warm caches and the allocator
        answer_turn([{"role": "user", "content": q}], services)
    kinds = {
        "english": [[q] for q in qs],
        "follow-up": conversations()["follow-up"],
        "spanish": [[q] for q in spanish_questions()],
    }
    ratios: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(repeats):
        for kind, convs in kinds.items():
            encode_ms, turn_ms, steps = [], [], {}
            for turns in convs:
                t = time.perf_counter()
                enc.encode_one(turns[-1])
                encode_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                reply = answer_turn(messages(turns), services)
                turn_ms.append((time.perf_counter() - t) * 1000)
                for step, ms in reply.timings.steps.items():
                    steps.setdefault(step, []).append(ms)
            enc50, turn50 = statistics.median(encode_ms), statistics.median(turn_ms)
            ratios[kind].append(round(turn50 / enc50, 3))
            line = {
                "encode_p50": round(enc50, 2),
                "turn_p50": round(turn50, 2),
                "ratio": ratios[kind][-1],
                "step_medians": {s: round(statistics.median(v), 2) for s, v in steps.items()},
            }
            print(kind, json.dumps(line), flush=True)
    for kind, values in ratios.items():
        print(
            f"{kind}: median ratio {statistics.median(values):.3f} "
            f"(range {min(values):.3f}-{max(values):.3f}, {len(values)} repetitions)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
