"""Thumbs up/down, saved locally as JSON lines: route, document ids, rating, time.
Message text is stored only when the user ticks the box to share it.

The file is bounded: each row is capped, and past `max_bytes` the file is rotated to
`feedback.jsonl.1` (one old file kept), so the disk holds at most about twice `max_bytes`.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

_lock = threading.Lock()
MAX_TEXT_CHARS = 8000  # per shared message; a reply is about 1,500 characters


def save_feedback(
    path: Path,
    route: str,
    doc_ids: list[str],
    rating: str,
    text: dict | None = None,
    max_bytes: int = 10 * 1024 * 1024,
) -> dict:
    if rating not in ("up", "down"):
        raise ValueError("rating must be 'up' or 'down'")
    row: dict[str, object] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "route": str(route)[:40],
        "doc_ids": [str(d)[:200] for d in doc_ids][:20],
        "rating": rating,
    }
    if text:
        row["conversation"] = {
            k: str(v)[:MAX_TEXT_CHARS] for k, v in text.items() if k in ("user", "assistant")
        }
    line = json.dumps(row, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        if path.exists() and path.stat().st_size + len(line.encode()) > max_bytes:
            path.replace(path.with_name(path.name + ".1"))
        with path.open("a", encoding="utf-8") as f:
            f.write(line)
    return row
