"""The gate: a YAML file of `metric: {min: x}` / `{max: x}` bounds on a run's `Summary`
(tests/data/eval/*.yaml). A misspelt metric or a malformed bound is refused, naming the file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.eval.dataset import DatasetError
from bot.eval.metrics import GATE_METRICS


def load_gate(path: Path) -> dict[str, Any]:
    """metric -> {"min": x} and/or {"max": x}, every metric one of `GATE_METRICS`."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(
            path, 0, "-", f"cannot read the gate file ({exc.__class__.__name__}: {exc})"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DatasetError(
            path, mark.line + 1 if mark else 0, "-", f"not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    if not isinstance(raw, dict):
        raise DatasetError(path, 0, "-", "gate file must map metric names to {min: x} or {max: x}")
    for metric, bound in raw.items():
        if metric not in GATE_METRICS:
            raise DatasetError(path, 0, str(metric), f"unknown metric (known: {', '.join(GATE_METRICS)})")
        if not isinstance(bound, dict) or not set(bound) <= {"min", "max"} or not bound:
            raise DatasetError(path, 0, metric, "must be {min: number} and/or {max: number}")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bound.values()):
            raise DatasetError(path, 0, metric, "bounds must be numbers")
    return raw


def check_gate(summary: Mapping[str, Any], gate: Mapping[str, Any]) -> list[str]:
    """Each gate entry: metric: {min: x} or {max: x}. Returns the misses (empty = pass)."""
    misses: list[str] = []
    for metric, bound in gate.items():
        value = summary.get(metric)
        if value is None:
            continue  # not measurable on this dataset
        if "min" in bound and value < bound["min"]:
            misses.append(f"{metric} = {value} < {bound['min']}")
        if "max" in bound and value > bound["max"]:
            misses.append(f"{metric} = {value} > {bound['max']}")
    return misses
