"""`bot/eval/` as a package: the item schema refuses what it does not know, naming the line and
the field; one JSONL reader; the gate and table keys are the `Summary` fields; the HTML report is
rendered from its template file; the evaluator stays out of the HTTP layer."""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from string import Template

import pytest

import bot.eval.report as report_module
from bot.eval import (
    GATE_METRICS,
    TABLE_KEYS,
    Checks,
    DatasetError,
    Item,
    Summary,
    html_report,
    load_dataset,
    load_gate,
    percentile,
    read_jsonl,
    summarise,
    terminal_table,
)
from bot.settings import REPO_ROOT

OK = '{"id": "ok-%d", "turns": ["what is kratom?"], "expected_route": "answer"}'


# ---- dataset ----------------------------------------------------------------------------


def test_an_unknown_field_is_refused_naming_the_field_and_its_line(tmp_path):
    path = tmp_path / "typo.jsonl"
    typo = '{"id": "t", "turns": ["is kratom legal?"], "expected_route": "answer", "must_mention": ["legal"]}'
    path.write_text("\n".join([OK % 1, "", OK % 2, typo]) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert str(info.value) == f"{path}:4: field 'must_mention': unknown field"


@pytest.mark.parametrize(
    "extra, field, words",
    [
        ('"turns": ["hi", 42]', "turns", ["[1]", "42"]),
        ('"turns": ["hi"], "not_covered": "yes"', "not_covered", ["boolean", "'yes'"]),
        ('"turns": ["hi"], "expected_docs": "fda-and-kratom"', "expected_docs", ["list"]),
        ('"turns": ["hi"], "lang": 2', "lang", ["string"]),
    ],
    ids=["turn-not-a-string", "bool-as-string", "list-as-string", "string-as-number"],
)
def test_a_wrong_type_names_the_line_the_field_and_what_came(tmp_path, extra, field, words):
    path = tmp_path / "bad.jsonl"
    path.write_text(OK % 1 + '\n{"id": "b", "expected_route": "answer", ' + extra + "}\n", encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:2: field '{field}': ")
    assert all(w in msg for w in words), msg


def test_read_jsonl_numbers_lines_as_an_editor_does(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\n   \n{"a": 2}\n', encoding="utf-8")
    assert list(read_jsonl(path)) == [(1, {"a": 1}), (4, {"a": 2})]
    path.write_text('{"a": 1}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"rows.jsonl:2: field '-': each line must be a JSON object"):
        list(read_jsonl(path))


def test_items_built_in_code_are_validated_too():
    assert Item("x", ["q"], "answer", facet="drug-test").category == "drug-test"
    assert Item("x", ["q"], "answer").category == "uncategorised"
    with pytest.raises(ValueError, match="refuse"):
        Item("x", ["q"], "refuse")  # type: ignore[arg-type]


# ---- metrics, gate, table ----------------------------------------------------------------


def _checks() -> list[Checks]:
    return [
        Checks("a", "c1", "emergency", "emergency", True, urgent_numbers_ok=True, amount_leak=False),
        Checks("b", "c1", "answer", "decline", False, amount_leak=False, lang_ok=False),
        Checks(
            "c",
            "c2",
            "answer",
            "answer",
            True,
            citations_valid=True,
            grounded_sentences=2,
            answer_sentences=3,
        ),
    ]


def test_gate_metrics_are_the_summary_fields_that_hold_a_number():
    summary = summarise(_checks(), [12.0, 30.0])
    values = summary.as_dict()
    assert list(values) == [f.name for f in fields(Summary)]
    scalars = [k for k, v in values.items() if not isinstance(v, dict)]
    assert list(GATE_METRICS) == scalars
    assert values["route_accuracy"] == 0.6667 and values["groundedness"] == 0.6667
    assert values["urgent_numbers_rate"] == 1.0 and values["reply_language_match"] == 0.0
    assert values["over_refusal_rate"] == 0.5 and values["latency_ms_p95"] == 29.1


def test_every_gate_file_bounds_only_summary_fields_and_a_field_is_enough(tmp_path):
    for gate in (REPO_ROOT / "tests" / "data" / "eval").glob("*.yaml"):
        assert set(load_gate(gate)) <= set(GATE_METRICS), gate
    every = tmp_path / "every.yaml"
    every.write_text("".join(f"{k}: {{min: 0}}\n" for k in GATE_METRICS), encoding="utf-8")
    assert list(load_gate(every)) == list(GATE_METRICS)


def test_the_table_rows_are_the_summary_fields_marked_for_the_table():
    table = terminal_table("x.jsonl", summarise(_checks(), [5.0]).as_dict())
    rows = [line.split()[0] for line in table.splitlines()[1:] if line.startswith("  ") and line[2] != " "]
    assert rows[: len(TABLE_KEYS)] == list(TABLE_KEYS)
    assert rows[len(TABLE_KEYS) :] == ["per"]  # then the per-route lines
    assert TABLE_KEYS == tuple(f.name for f in fields(Summary) if f.metadata["table"])


def test_percentile_is_linear_between_ranks():
    assert percentile([], 50) is None
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([7.0], 99) == 7.0


# ---- the HTML report ---------------------------------------------------------------------


def _report() -> dict:
    rows = _checks()
    return {
        "summary": summarise(rows, [5.0]).as_dict(),
        "by_category": {"c1": summarise(rows[:2], []).as_dict(), "c2": summarise(rows[2:], []).as_dict()},
        "failures": [
            {
                "id": "b",
                "category": "c1",
                "expected": "answer",
                "route": "decline",
                "conversation": [{"role": "user", "content": "<img src=x onerror=alert(1)>"}],
                "reply": "I can't help with that $name",
                "reasons": [{"rule": "decline.off_topic"}],
                "checks": {"route_ok": False},
            }
        ],
    }


def test_the_html_report_is_rendered_from_its_template_file():
    template = report_module.TEMPLATE.read_text(encoding="utf-8")
    page = html_report("my <set>.jsonl", _report())
    static = [piece for piece in re.split(r"\$[a-z_]+", template) if piece.strip()]
    assert len(static) >= 5 and all(piece in page for piece in static)
    assert "<style>" in page and "table.fails" in page
    assert "my &lt;set&gt;.jsonl" in page and "<img" not in page
    assert "I can&#x27;t help with that $name" in page  # a reply's own "$" is text, never a placeholder
    assert "<td>b</td>" in page and "answer → <b>decline</b>" in page and "Failures (1)" in page


def test_the_template_fills_exactly_what_the_renderer_gives(tmp_path, monkeypatch):
    identifiers = set(Template(report_module.TEMPLATE.read_text(encoding="utf-8")).get_identifiers())
    assert identifiers == {
        "name",
        "predicted",
        "confusion",
        "metrics",
        "categories",
        "failure_count",
        "failures",
    }
    other = tmp_path / "other.html"
    other.write_text("<h1>$name</h1><p>$failure_count failures</p>\n", encoding="utf-8")
    monkeypatch.setattr(report_module, "TEMPLATE", other)
    assert html_report("x.jsonl", _report()) == "<h1>x.jsonl</h1><p>1 failures</p>\n"


# ---- boundaries ------------------------------------------------------------------------


def test_the_evaluator_imports_nothing_from_the_http_layer():
    http_layer = {"bot.api", "bot.openai_compat", "bot.server", "bot.ui"}
    for path in (REPO_ROOT / "bot" / "eval").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            else:
                continue
            assert not names & http_layer, f"{path.relative_to(REPO_ROOT)} imports {names & http_layer}"


@pytest.mark.parametrize(
    "lines, expected",
    [
        (
            ["The U.S. Food and Drug Administration has not approved kratom [1]. It warns people."],
            "has not approved",
        ),
        (["Sources:", "No. Kratom is not approved as a medicine. The FDA warns."], "no"),
        (["El kratom no está aprobado en EE. UU. como medicamento [2]."], "no está aprobado"),
    ],
)
def test_the_bottom_line_is_the_replys_first_sentence_split_as_the_composer_splits(lines, expected):
    """'U.S.' does not end the first sentence, so an answer that starts with the FDA's full name is scored
    on what it says."""
    from bot.eval.judge import _first_sentence

    first = _first_sentence(lines)
    assert expected in first and "warns" not in first
