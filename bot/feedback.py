"""Thumbs up/down, saved locally as JSON lines: route, document ids, rating, time.
Message text is stored only when the user ticks the box to share it."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

_lock = threading.Lock()


def save_feedback(path: Path, route: str, doc_ids: list[str], rating: str, text: dict | None = None) -> dict:
    if rating not in ("up", "down"):
        raise ValueError("rating must be 'up' or 'down'")
    row = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "route": route,
           "doc_ids": list(doc_ids), "rating": rating}
    if text:
        row["conversation"] = text
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return row
