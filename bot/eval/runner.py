"""One evaluation run: each item's user turns are played one by one (the bot's own replies fed
back as assistant turns), the last reply is judged, and the checks are summed up overall and per
category, with every failure kept beside its conversation and routing reasons."""

from __future__ import annotations

from typing import Any

from tqdm import tqdm

from bot.eval.dataset import Item
from bot.eval.judge import Urgent, judge, urgent_numbers
from bot.eval.metrics import CATEGORY_KEYS, summarise
from bot.eval.targets import HttpTarget, Target, TurnResult


def play(item: Item, target: Target) -> tuple[TurnResult, list[float], list[dict]]:
    """The last reply, every turn's latency (ms) and the whole conversation."""
    messages: list[dict] = []
    latencies = []
    result = None
    for turn in item.turns:
        messages.append({"role": "user", "content": turn})
        result = target(messages)
        latencies.append(result.ms)
        messages.append({"role": "assistant", "content": result.text})
    if result is None:
        raise ValueError(f"item {item.id!r} has no turns")
    return result, latencies, messages


def evaluate(
    items: list[Item],
    target: Target,
    documents: dict[str, str],
    progress: bool = True,
    urgent: Urgent | None = None,
) -> dict[str, Any]:
    """The report: `summary`, `by_category`, `failures` (as written to JSON), `rows` (every
    item's checks) and `replies` (every item's last reply, passed or not). `urgent`: the numbers urgent replies must give (`urgent_numbers`); default:
    the default policy's locale."""
    if urgent is None:
        from guardrails.policy import load_policy

        policy = load_policy()
        urgent = urgent_numbers(policy, policy.default_locale)
    rows, latencies, failures, replies = [], [], [], []
    bar = tqdm(items, desc="Evaluating", unit="conv", disable=not progress)
    if isinstance(target, HttpTarget):  # a rate-limited server: show the wait instead of a frozen bar
        target.on_wait = lambda left: bar.set_postfix_str(
            f"server busy (429): waiting {left} s" if left else ""
        )
    for item in bar:
        result, lat, messages = play(item, target)
        latencies += lat
        checks = judge(item, result, documents, urgent)
        rows.append(checks)
        replies.append(
            {
                "id": item.id,
                "category": item.category,
                "expected": item.expected_route,
                "route": result.route,
                "passed": not checks.failed(),
                "turns": item.turns,
                "reply": result.text,
            }
        )
        if checks.failed():
            failures.append(
                {
                    "id": item.id,
                    "category": item.category,
                    "expected": item.expected_route,
                    "route": result.route,
                    "conversation": messages[:-1],
                    "reply": result.text,
                    "reasons": result.reasons,
                    "checks": {k: v for k, v in checks.as_dict().items() if k not in ("id", "category")},
                }
            )
    by_category = {
        cat: summarise([r for r in rows if r.category == cat], []).as_dict(CATEGORY_KEYS)
        for cat in sorted({r.category for r in rows})
    }
    return {
        "summary": summarise(rows, latencies).as_dict(),
        "by_category": by_category,
        "failures": failures,
        "rows": [r.as_dict() for r in rows],
        "replies": replies,
    }
