"""Where the conversations are played: in process (`answer_turn`) or a running server's
`/v1/chat/completions` (`--url`). Both read the reply's one serialisation (bot/render.py `as_json`;
over HTTP, the `kratom_qa` object) into the `TurnResult` the judge reads."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from bot.services import Services


@dataclass
class TurnResult:
    """One reply as the judge reads it."""

    route: str
    text: str  # the whole message, as a person reads it
    citations: list[dict]
    reasons: list[dict]  # each reason's public() form: rule ids, scores, chunk ids
    retrieved: list[str]  # chunk ids, in rank order
    ms: float
    # the reply's parts in reading order, sources and disclaimer left out
    lines: list[str] = field(default_factory=list)
    # (sentence, citation number), the bottom line first
    cited: list[tuple[str, int]] = field(default_factory=list)


Target = Callable[[list[dict]], TurnResult]


def turn_result(data: dict[str, Any], text: str, ms: float) -> TurnResult:
    """`data`: the reply's `as_json` object; `text`: its message text; `ms`: the turn's latency."""
    cited = ([data["bottom_line"]] if data.get("bottom_line") else []) + list(data.get("facts", []))
    lines = [
        data.get("safety_net_text") or "",
        data.get("message") or "",
        *[c["text"] for c in cited[:1]],
        *data.get("notes", []),
        *[c["text"] for c in cited[1:]],
        *data.get("actions", []),
    ]
    return TurnResult(
        data.get("route", "?"),
        text,
        data.get("citations", []),
        data.get("reasons", []),
        [p["chunk_id"] for p in data.get("passages", [])],
        ms,
        [x for x in lines if x],
        [(c["text"], int(c["number"])) for c in cited],
    )


def in_process_target(services: Services) -> Target:
    from bot.chat import answer_turn
    from bot.render import as_json

    def run(messages: list[dict]) -> TurnResult:
        start = time.perf_counter()
        reply = answer_turn(messages, services)
        ms = (time.perf_counter() - start) * 1000
        return turn_result(as_json(reply), reply.text, ms)

    return run


class TargetError(Exception):
    """The server could not be reached or kept refusing; one line for the CLI (exit 3)."""


RETRY_STATUSES = (429, 503)  # rate limited, queue full: wait as told, then try again
MAX_WAITS = 20
MAX_WAIT_SECONDS = 120


class HttpTarget:
    """A running server's `/v1/chat/completions`. A 429/503 is waited out (its `Retry-After`,
    shown through `on_wait`) and retried; transport failures and other errors raise `TargetError`."""

    def __init__(self, url: str, timeout: float = 60.0, client: httpx.Client | None = None):
        import httpx

        self.url = url.rstrip("/")
        self.client = client or httpx.Client(base_url=self.url, timeout=timeout)
        self.on_wait: Callable[[int], None] = lambda seconds: None  # seconds left; 0 = done waiting
        self.waited = 0.0

    def _post(self, messages: list[dict]) -> httpx.Response:
        import httpx

        for _ in range(MAX_WAITS + 1):
            try:
                resp = self.client.post(
                    "/v1/chat/completions", json={"model": "kratom-qa", "messages": messages}
                )
            except httpx.TransportError as exc:
                why = str(exc) or type(exc).__name__
                raise TargetError(
                    f"cannot reach {self.url} ({type(exc).__name__}: {why}); "
                    "is `kratom-qa serve` running there?"
                ) from None
            if resp.status_code not in RETRY_STATUSES:
                return resp
            wait = _retry_after(resp.headers.get("retry-after"))
            for left in range(wait, 0, -1):
                self.on_wait(left)
                time.sleep(1)
            self.waited += wait
            self.on_wait(0)
        raise TargetError(
            f"{self.url} answered {resp.status_code} {MAX_WAITS + 1} times in a row; "
            "for bulk evaluation start the server with `kratom-qa serve --eval` (no rate limit)"
        )

    def __call__(self, messages: list[dict]) -> TurnResult:
        start = time.perf_counter()
        resp = self._post(messages)
        ms = (time.perf_counter() - start) * 1000
        if resp.status_code != 200:
            try:
                message = resp.json()["error"]["message"]
            except Exception:  # noqa: BLE001 (not our server, or not JSON)
                message = resp.text[:200]
            raise TargetError(f"{self.url} answered {resp.status_code}: {message}")
        data = resp.json()
        return turn_result(data.get("kratom_qa") or {}, data["choices"][0]["message"]["content"], ms)


def _retry_after(value: str | None) -> int:
    """Seconds from a Retry-After header (delta-seconds form), 1..MAX_WAIT_SECONDS; 1 when absent or odd."""
    try:
        return max(1, min(MAX_WAIT_SECONDS, int(float(value or 1))))
    except ValueError:
        return 1


def http_target(url: str, timeout: float = 60.0) -> HttpTarget:
    return HttpTarget(url, timeout)
