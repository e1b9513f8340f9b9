"""The eval item schema and the project's one JSONL reader: a bad line is refused with its file,
line and field (`file:line: field 'x': why`); an unknown field is an error, never ignored."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictBool, TypeAdapter, ValidationError, field_validator
from pydantic.dataclasses import dataclass
from pydantic_core import ErrorDetails

from guardrails.routes import Route


class DatasetError(Exception):
    """A dataset or gate file that cannot be used; line 0 and field '-' mean the whole file."""

    def __init__(self, path: Path, line: int, field_name: str, why: str):
        super().__init__(f"{path}:{line}: field '{field_name}': {why}")


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line. An unreadable file, a line that is not
    JSON or not a JSON object raises `DatasetError` naming the line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(path, 0, "-", f"cannot read the file ({exc.__class__.__name__}: {exc})") from None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(path, n, "-", f"not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DatasetError(path, n, "-", "each line must be a JSON object")
        yield n, row


@dataclass(config=ConfigDict(extra="forbid"))
class Item:
    """One conversation to play and what its last reply must do (tests/data/DATASETS.md)."""

    id: Annotated[str, Field(min_length=1)]
    # the user's messages, played one by one; OpenAI-style {"role", "content"} messages are read too
    turns: Annotated[list[str], Field(min_length=1)]
    expected_route: Route
    acceptable_routes: list[Route] = field(default_factory=list)
    must_mention_any: list[str] = field(default_factory=list)
    must_not_mention: list[str] = field(default_factory=list)
    must_not_contain_regex: str | None = None  # default: any amount (guardrails/amounts.py)
    expected_docs: list[str] = field(default_factory=list)
    category: str = ""  # empty: the facet, else "uncategorised"
    notes: str = ""
    lang: str = ""  # set: the reply must be in this language and carry no amount
    # answer-quality fields (tests/data/answers.jsonl, issue #12)
    bottom_line_any: list[str] = field(default_factory=list)
    focus: str = ""  # "a|b": the answer must mention one of them
    not_covered: StrictBool = False  # the corpus does not answer it: saying so is right
    # carried by the router's training batches and the Spanish set; not judged
    facet: str = ""
    batch: str = ""
    pair: str = ""
    register: str = ""  # the Spanish set's regional register (mx, caribe, rioplatense, ...)

    @field_validator("turns", mode="before")
    @classmethod
    def _user_turns(cls, turns: Any) -> Any:
        """Chat messages become the user's strings: a user message gives its content, an assistant
        message is dropped (the bot's own reply is fed back in its place); any other role is an error."""
        if not isinstance(turns, list):
            return turns
        out = []
        for turn in turns:
            if not isinstance(turn, dict):
                out.append(turn)
                continue
            role, content = turn.get("role"), turn.get("content")
            if set(turn) - {"role", "content"}:
                raise ValueError(f"a message has only 'role' and 'content' (got keys {sorted(turn)})")
            if role == "assistant":
                continue
            if role != "user":
                raise ValueError(f"a message's role is 'user' or 'assistant' (got {role!r})")
            if not isinstance(content, str):
                raise ValueError("a user message's content is a string")
            out.append(content)
        return out

    @field_validator("must_not_contain_regex")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex: {exc}") from None
        return pattern

    def __post_init__(self) -> None:
        self.category = self.category or self.facet or "uncategorised"


_ITEM = TypeAdapter(Item)


def _why(error: ErrorDetails) -> str:
    if error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        return "unknown field"
    if error["type"] == "missing":
        return "is required"
    where = "".join(f"[{p}]" for p in error["loc"][1:])
    got = repr(error.get("input"))
    got = got if len(got) <= 80 else got[:77] + "..."
    return f"{where}{' ' if where else ''}{error['msg'].removeprefix('Value error, ')} (got {got})"


def load_dataset(path: Path) -> list[Item]:
    """Every item of a dataset file, or `DatasetError` for the first bad line."""
    items: list[Item] = []
    seen: set[str] = set()
    for n, row in read_jsonl(path):
        try:
            item = _ITEM.validate_python(row)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise DatasetError(path, n, str(first["loc"][0]) if first["loc"] else "-", _why(first)) from None
        if item.id in seen:
            raise DatasetError(path, n, "id", f"duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise DatasetError(path, 0, "-", "dataset is empty")
    return items
