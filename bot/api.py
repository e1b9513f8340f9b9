"""HTTP API on the same server as the chat: FastAPI with Gradio mounted at `/`.

    GET  /healthz                status, documents, chunks, index version
    POST /api/chat               {messages} -> the reply's parts (bot/render.py `as_json`)
    POST /v1/chat/completions    OpenAI-compatible (also stream: true)
    POST /v1/responses           OpenAI Responses API, a thin mapping onto the same turn
    GET  /v1/models[/{id}]       the one model, for OpenAI clients
    GET  /embed.js               one script tag: a floating chat button for allowed sites (bot/embed.py)

The route is in the `x-kqa-route` header, in `metadata` (OpenAI's Dict[str, str]) and, with
citations, resources and reasons, under `kratom_qa` (bot/openai_compat.py). Bad requests get
JSON 4xx errors (OpenAI's shape under /v1: a string `code` and `param`), never a 500. Rate
limiting per client is a setting.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import threading
import time
import traceback
from collections import OrderedDict
from typing import Any, Literal

from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import __version__
from bot.chat import InputError, answer_turn
from bot.embed import add_embed_route
from bot.openai_compat import (
    MODEL_ID,
    Answer,
    ParamError,
    TokenCounter,
    parse_chat_request,
    parse_responses_request,
    route_headers,
)
from bot.render import as_json
from bot.services import Services
from guardrails.reasons import InputProblem

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 256 * 1024
API_PREFIXES = ("/api/", "/v1/")


class ContentPart(BaseModel):
    """One OpenAI content part; only `text` parts are read, and their text must be a string."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str = ""


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["user", "assistant", "system"]
    content: str | list[ContentPart]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[MessageIn] = Field(min_length=1, max_length=200)
    lang: Literal["en", "es"] | None = Field(
        None, description="Reply language; default: the last user turn's"
    )


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
    headers: dict | None = None,
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


class RateLimiter:
    """A token bucket per client: `per_minute` requests, refilled evenly over a minute.

    Each check is O(1): buckets sit in an OrderedDict by last use, and the ones idle for
    longer than a minute (full again, so forgetting them changes nothing) are dropped from
    the front as we go. `max_clients` bounds the memory whatever the number of addresses.
    """

    def __init__(self, per_minute: int, max_clients: int = 100_000, clock=time.monotonic):
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


class Refused(Exception):
    """A request the app will not serve; the middleware answers `status` with `message` as JSON."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


class GuardMiddleware:
    """Pure ASGI (no per-request task overhead), inside CORS and outside everything else.

    Every POST, the API's and Gradio's alike: a per-client rate limit, a body-size cap and a
    timeout on reading the body; outside the API, the `gate` (bot/ui.py) checks Gradio's
    requests before Gradio sees them. Every reply carries the security headers, our own
    4xx and a 500 from anything inside included.
    """

    def __init__(self, app, limiter: RateLimiter, csp: str, gate=None, body_timeout: float = 10.0):
        self.app, self.limiter, self.gate, self.body_timeout = app, limiter, gate, body_timeout
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in self.headers if h[0] not in names
                ]
            await send(message)

        try:
            receive = await self._admit(scope, receive)
            await self.app(scope, receive, send_with_headers)
        except Refused as exc:
            kind = "rate_limit_error" if exc.status == 429 else "invalid_request_error"
            await self._reply(send_with_headers, error(exc.status, exc.message, kind, exc.headers))
        except Exception as exc:  # log where, never what: an exception's message may quote user text
            log.error(
                "unhandled %s on %s %s\n%s",
                type(exc).__name__,
                scope["method"],
                scope["path"],
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            if not started:
                await self._reply(send_with_headers, error(500, "internal error", "server_error"))

    async def _admit(self, scope, receive):
        """Rate limit and read a POST's whole body (capped, with a timeout); pass it through the gate.

        Returns the `receive` the app should use (the body replayed)."""
        gated = self.gate is not None and not scope["path"].startswith(API_PREFIXES)
        if scope["method"] != "POST":
            if gated:
                self.gate(scope["method"], scope["path"], b"")
            return receive
        client = scope.get("client") or ("unknown", 0)
        wait = self.limiter.retry_after(client[0])
        if wait:  # who and where, never what: no body is read
            log.warning(
                "429 rate limited: client %s on %s %s, retry after %d s",
                client[0],
                scope["method"],
                scope["path"],
                wait,
            )
            raise Refused(429, "too many requests; slow down", {"Retry-After": str(wait)})
        too_big = Refused(413, f"request body larger than {MAX_BODY_BYTES} bytes")
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise too_big
        body, more = bytearray(), True
        while more:
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                raise Refused(408, f"request body not received within {self.body_timeout:g} s") from None
            if message["type"] == "http.disconnect":
                raise Refused(400, "client disconnected")
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES:
                raise too_big
        data = self.gate("POST", scope["path"], bytes(body)) if gated else bytes(body)
        replay = [{"type": "http.request", "body": data, "more_body": False}]

        async def replayed():  # then the real one: streaming responses wait on it for a disconnect
            return replay.pop() if replay else await receive()

        return replayed

    async def _reply(self, send, response: JSONResponse) -> None:
        async def no_body():
            return {"type": "http.disconnect"}

        await response({"type": "http"}, no_body, send)


class StripTrailingSlash:
    """`/v1/chat/completions/` is `/v1/chat/completions`: API paths lose a trailing slash before routing."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if (
            scope["type"] == "http"
            and path.startswith(API_PREFIXES)
            and path.endswith("/")
            and path.strip("/")
        ):
            scope = {**scope, "path": path.rstrip("/"), "raw_path": scope.get("raw_path", b"").rstrip(b"/")}
        await self.app(scope, receive, send)


INPUT_PROBLEMS = {
    "too_long": "a user message is longer than {chars} characters",
    "too_many_turns": "more than {turns} messages in one conversation",
    "empty": "the last user message is empty",
}


def _messages(body: ChatRequest) -> list[dict]:
    return [m.model_dump() for m in body.messages]


def create_app(services: Services, with_ui: bool = True) -> FastAPI:
    settings = services.settings
    app = FastAPI(
        title="kratom-qa",
        version=__version__,
        description="Answers questions about kratom only from vetted, cited sources.",
    )
    limiter = RateLimiter(settings.rate_limit_per_minute)
    count_tokens = TokenCounter(services.encoder._model.tokenizer)
    frame_ancestors = " ".join(["'self'", *settings.allowed_origins])
    demo = None
    if with_ui:
        from bot.ui import build_ui, gradio_gate

        demo = build_ui(services)
    app.add_middleware(StripTrailingSlash)
    app.add_middleware(
        GuardMiddleware,
        limiter=limiter,
        csp=f"frame-ancestors {frame_ancestors}",
        gate=gradio_gate(demo) if demo else None,
        body_timeout=settings.request_timeout_seconds,
    )
    # Outermost, so the guard's own 413/429/500 carry CORS headers too. Always present: with no
    # allowed origins it allows none, and Gradio's own CORS (which trusts any localhost page,
    # with credentials) stands aside when the parent app has one.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["*"],
        expose_headers=["x-kqa-route", "x-kqa-safety-net"],
    )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        if first.get("type") == "json_invalid":
            return error(400, "request body is not valid JSON", code="invalid_json")
        status = 400 if request.url.path.startswith("/v1/") else 422  # OpenAI clients expect 400
        return error(status, f"{where or 'body'}: {first.get('msg', 'invalid request')}", param=where or None)

    @app.exception_handler(ParamError)
    async def bad_param(request: Request, exc: ParamError):
        return error(exc.status, exc.message, param=exc.param, code=exc.code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError):
        return error(400 if request.url.path.startswith("/v1/") else 422, str(exc), param="messages")

    @app.get("/healthz")
    def healthz() -> dict:
        """What answers come from now: the index version the retriever has loaded, not the pointer's."""
        served, latest = services.retriever.stats(), services.index.version
        out = {"status": "ok" if served["chunks"] else "no_index", **served, "version": __version__}
        if latest != served["index_version"]:
            out["index_pending_version"] = latest  # switched by another process; loaded within 30 s
        return out

    add_embed_route(app, settings.allowed_origins)  # GET /embed.js: the floating chat button for host sites

    @app.post("/api/chat")
    def chat(body: ChatRequest) -> dict:
        return as_json(answer_turn(_messages(body), services, lang=body.lang))

    model_card = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "kratom-qa"}

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [model_card]}

    @app.get("/v1/models/{model_id:path}")
    def model(model_id: str):
        if model_id != MODEL_ID:
            return error(
                404,
                f"no model {model_id!r}; this server serves {MODEL_ID!r}",
                param="model",
                code="model_not_found",
            )
        return model_card

    def openai_turn(turn) -> Answer:
        """One turn for an OpenAI-shaped request. The web chat answers a too-long or empty message
        with a polite decline; an API client gets a 400 naming `messages` (urgent help still wins)."""
        reply = answer_turn(turn.messages, services, lang=turn.lang)
        problem = next((r.key for r in reply.reasons[:1] if isinstance(r, InputProblem)), None)
        if problem and reply.route == "decline":
            why = INPUT_PROBLEMS[problem].format(chars=settings.max_message_chars, turns=settings.max_turns)
            raise ParamError(why, "messages", "invalid_value")
        return Answer(reply, turn, count_tokens)

    def openai_reply(turn, whole, events):
        """One OpenAI-shaped reply: `whole(answer)` is the JSON body, `events(answer, chunks)` the stream."""
        answer = openai_turn(turn)
        headers = route_headers(answer.reply)
        if not turn.stream:
            return JSONResponse(whole(answer), headers=headers)
        # the reply was fully checked before the first byte
        return StreamingResponse(
            events(answer, chunk_text(answer.text)), media_type="text/event-stream", headers=headers
        )

    @app.post("/v1/chat/completions")
    def completions(body: Any = Body(None)):
        return openai_reply(parse_chat_request(body), Answer.completion, Answer.completion_chunks)

    @app.post("/v1/responses")
    def responses(body: Any = Body(None)):
        return openai_reply(parse_responses_request(body), Answer.response, Answer.response_events)

    @app.api_route(
        "/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    @app.api_route(
        "/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    def unknown(request: Request, rest: str):
        """Wrong path or method under the API prefixes: a JSON error, not the chat page's 404."""
        known = {
            "/api/chat": "POST",
            "/v1/chat/completions": "POST",
            "/v1/responses": "POST",
            "/v1/models": "GET",
        }
        path = request.url.path.rstrip("/")
        if path in known:
            return error(
                405,
                f"{request.method} is not allowed on {path}; use {known[path]}",
                headers={"Allow": known[path]},
            )
        return error(404, f"no API endpoint at {path}; see /docs")

    if demo is not None:
        from bot.ui import mount_ui

        app = mount_ui(app, demo, services)
    return app


def chunk_text(text: str, size: int = 24) -> list[str]:
    """Split a finished reply into small pieces for streaming (words kept whole).

    The pieces concatenate to exactly `text`: each word keeps the spaces after it.
    """
    pieces, current = [], ""
    for word in re.split(r"(?<= )(?=[^ ])", text):
        current += word
        if len(current) >= size:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces
