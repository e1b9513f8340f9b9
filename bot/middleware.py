"""The ASGI middlewares in front of every route, the API's and Gradio's alike; each does one job.

    SecurityHeaders   CSP frame-ancestors, nosniff, no-referrer on every reply (our 4xx/500 too)
    ErrorReplies      `Refused` -> its JSON 4xx; anything else -> logged (where, never what), a 500
    RateLimit         a per-client token bucket on POSTs: 429 with Retry-After
    BodyLimit         a POST's whole body read under a size cap (413) and a timeout (408), replayed
    GradioGate        outside the API, `bot/ui.py` `gradio_gate` checks Gradio's requests first
    StripTrailingSlash  `/v1/chat/completions/` is `/v1/chat/completions`

`bot/api.py` `middleware()` puts them in their one order. A middleware refuses a request by
raising `Refused`; `ErrorReplies` turns that into the JSON error every client gets.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Gate = Callable[[str, str, bytes], bytes]  # (method, path, body) -> the body to pass on; raises Refused

API_PREFIXES = ("/api/", "/v1/")
MAX_BODY_BYTES = 256 * 1024

ERROR_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "request_too_large",
    422: "invalid_request",
    429: "rate_limit_exceeded",
    500: "internal_error",
}


def error(
    status: int,
    message: str,
    kind: str = "invalid_request_error",
    headers: dict[str, str] | None = None,
    param: str | None = None,
    code: str | None = None,
) -> JSONResponse:
    """OpenAI's error shape: a string `code` and the `param` at fault (null when none is)."""
    body = {
        "message": message,
        "type": kind,
        "param": param,
        "code": code or ERROR_CODES.get(status, str(status)),
    }
    return JSONResponse({"error": body}, status_code=status, headers=headers)


class Refused(Exception):
    """A request the app will not serve; `ErrorReplies` answers `status` with `message` as JSON."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


class RateLimiter:
    """A token bucket per client: `per_minute` requests, refilled evenly over a minute.

    Each check is O(1): buckets sit in an OrderedDict by last use, and the ones idle for
    longer than a minute (full again, so forgetting them changes nothing) are dropped from
    the front as we go. `max_clients` bounds the memory whatever the number of addresses.
    """

    def __init__(
        self, per_minute: int, max_clients: int = 100_000, clock: Callable[[], float] = time.monotonic
    ):
        self.per_minute, self.max_clients, self.clock = per_minute, max_clients, clock
        self.rate = per_minute / 60.0
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, last seen)
        self.lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """0 when the request may go ahead (and is counted); else seconds until it may."""
        if self.per_minute <= 0:
            return 0
        now = self.clock()
        with self.lock:
            while self.buckets:
                oldest, (_, seen) = next(iter(self.buckets.items()))
                if now - seen <= 60 and len(self.buckets) < self.max_clients:
                    break
                del self.buckets[oldest]
            tokens, seen = self.buckets.pop(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - seen) * self.rate)
            if tokens < 1.0:
                self.buckets[client] = (tokens, now)
                return max(1, math.ceil((1.0 - tokens) / self.rate))
            self.buckets[client] = (tokens - 1.0, now)
        return 0


def replayed(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app `body` in one message, then the real one (a streaming
    response waits on it for the client's disconnect)."""
    replay = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive_replayed() -> Message:
        return replay.pop() if replay else await receive()

    return receive_replayed


class SecurityHeaders:
    """Adds the security headers to every reply that does not set them itself."""

    def __init__(self, app: ASGIApp, csp: str):
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in self.headers if h[0] not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ErrorReplies:
    """Every failure below becomes a JSON reply: `Refused` its 4xx, any other exception a 500.

    The log says where, never what: an exception's message may quote user text."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Refused as exc:
            kind = "rate_limit_error" if exc.status == 429 else "invalid_request_error"
            if not started:
                await self._reply(send, error(exc.status, exc.message, kind, exc.headers))
        except Exception as exc:
            log.error(
                "unhandled %s on %s %s\n%s",
                type(exc).__name__,
                scope["method"],
                scope["path"],
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            if not started:
                await self._reply(send, error(500, "internal error", "server_error"))

    @staticmethod
    async def _reply(send: Send, response: JSONResponse) -> None:
        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        await response({"type": "http"}, no_body, send)


class RateLimit:
    """POSTs, the API's and Gradio's, are limited per client address (`RateLimiter`)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter):
        self.app, self.limiter = app, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = self.limiter.retry_after(client)
            if wait:  # who and where, never what: no body is read
                log.warning(
                    "429 rate limited: client %s on %s %s, retry after %d s",
                    client,
                    scope["method"],
                    scope["path"],
                    wait,
                )
                raise Refused(429, "too many requests; slow down", {"Retry-After": str(wait)})
        await self.app(scope, receive, send)


class BodyLimit:
    """A POST's whole body is read before the app sees it: at most `max_bytes` (413), sent within
    `timeout` seconds a message (408); the app gets it replayed."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, timeout: float = 10.0):
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            receive = replayed(await self._read(scope, receive), receive)
        await self.app(scope, receive, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        too_big = Refused(413, f"request body larger than {self.max_bytes} bytes")
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            raise too_big
        body, more = bytearray(), True
        while more:
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                raise Refused(408, f"request body not received within {self.timeout:g} s") from None
            if message["type"] == "http.disconnect":
                raise Refused(400, "client disconnected")
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                raise too_big
        return bytes(body)


class GradioGate:
    """Requests outside the API pass `gate(method, path, body)` (bot/ui.py `gradio_gate`) before
    Gradio sees them; a POST's body is the one `BodyLimit` read, as the gate returns it."""

    def __init__(self, app: ASGIApp, gate: Gate):
        self.app, self.gate = app, gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(API_PREFIXES):
            if scope["method"] != "POST":
                self.gate(scope["method"], scope["path"], b"")
            else:
                message = await receive()  # BodyLimit's replay: the whole body in one message
                receive = replayed(self.gate("POST", scope["path"], message.get("body", b"")), receive)
        await self.app(scope, receive, send)


class StripTrailingSlash:
    """API paths lose a trailing slash before routing."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] == "http"
            and path.startswith(API_PREFIXES)
            and path.endswith("/")
            and path.strip("/")
        ):
            scope = {**scope, "path": path.rstrip("/"), "raw_path": scope.get("raw_path", b"").rstrip(b"/")}
        await self.app(scope, receive, send)
