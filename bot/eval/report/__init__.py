"""A run's reports: the terminal table, `<name>.json` (stable sorted keys) and `<name>.html`,
rendered from `report.html` (confusion heatmap, metrics, per-category bars, every failure with
its routing reasons). Every value put into the page is escaped here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape as e
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any

from bot.eval.metrics import PREDICTED, TABLE_KEYS
from guardrails.routes import ROUTES

TEMPLATE = files(__name__) / "report.html"  # shipped in the wheel (pyproject package-data)


def terminal_table(name: str, summary: Mapping[str, Any]) -> str:
    lines = [f"== {name}"]
    for key in TABLE_KEYS:
        v = summary.get(key)
        lines.append(f"  {key:24} {'-' if v is None else v}")
    lines.append("  per route (precision / recall / f1 / n):")
    for route, m in summary["per_route"].items():
        lines.append(
            f"    {route:15} {_f(m['precision'])} / {_f(m['recall'])} / {_f(m['f1'])} / {m['support']}"
        )
    return "\n".join(lines)


def _f(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def _heat_cell(count: int, peak: int, right: bool) -> str:
    rgb = "30,140,70" if right else "200,60,60"
    return f"<td style='background:rgba({rgb},{0.1 + 0.9 * count / peak:.2f})'>{count}</td>"


def _confusion_rows(confusion: Mapping[str, Mapping[str, int]]) -> str:
    peak = max([v for row in confusion.values() for v in row.values()] + [1])
    return "".join(
        f"<tr><th>{e(g)}</th>"
        + "".join(_heat_cell(confusion[g][p], peak, g == p) for p in PREDICTED)
        + "</tr>"
        for g in ROUTES
    )


def _category_bar(category: str, m: Mapping[str, Any]) -> str:
    width = 100 * (m["route_accuracy"] or 0)
    return (
        f"<div class='bar'><span class='lbl'>{e(category)} ({m['items']})</span><span class='track'>"
        f"<span class='fill' style='width:{width:.0f}%'></span></span> {m['route_accuracy']}</div>"
    )


def _failure_row(f: Mapping[str, Any]) -> str:
    conversation = "<br>".join(f"<i>{e(m['role'])}</i>: {e(m['content'][:400])}" for m in f["conversation"])
    reasons = json.dumps(f["reasons"], ensure_ascii=False)[:1500]
    cells = (
        e(f["id"]),
        e(f["category"]),
        f"{e(f['expected'])} → <b>{e(f['route'])}</b>",
        conversation,
        f"<pre>{e(f['reply'][:1200])}</pre>",
        f"<pre>{e(reasons)}</pre>",
    )
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def html_report(name: str, report: Mapping[str, Any]) -> str:
    s = report["summary"]
    page = Template(TEMPLATE.read_text(encoding="utf-8"))
    return page.substitute(
        name=e(name),
        predicted="".join(f"<th>{e(p)}</th>" for p in PREDICTED),
        confusion=_confusion_rows(s["confusion"]),
        metrics="".join(f"<tr><td>{e(k)}</td><td>{e(str(s.get(k)))}</td></tr>" for k in TABLE_KEYS),
        categories="".join(_category_bar(c, m) for c, m in report["by_category"].items()),
        failure_count=len(report["failures"]),
        failures="".join(_failure_row(f) for f in report["failures"]),
    )


def write_reports(name: str, report: Mapping[str, Any], out: Path) -> tuple[Path, Path]:
    """`<stem>.json` (summary and failures), `<stem>.html`, and `<stem>.replies.jsonl` (one line per
    item: its turns, route and last reply, passed or not) when the report carries replies."""
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(name).stem
    json_path, html_path = out / f"{stem}.json", out / f"{stem}.html"
    public = {
        "dataset": name,
        "summary": report["summary"],
        "by_category": report["by_category"],
        "failures": report["failures"],
    }
    json_path.write_text(json.dumps(public, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    html_path.write_text(html_report(name, report), encoding="utf-8")
    if "replies" in report:
        lines = (json.dumps(r, ensure_ascii=False) + "\n" for r in report["replies"])
        (out / f"{stem}.replies.jsonl").write_text("".join(lines), encoding="utf-8")
    return json_path, html_path
