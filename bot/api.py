"""HTTP API on the same server as the chat: FastAPI with Gradio mounted at `/`.

    GET  /healthz                status, documents, chunks, index version
    POST /api/chat               {messages} -> {route, answer, citations, resources}
    POST /v1/chat/completions    OpenAI-compatible (also stream: true) + top-level `metadata`
    GET  /v1/models              the one model, for OpenAI clients

Bad requests get JSON 4xx errors, never a 500. Rate limiting per client is a setting.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import __version__
from bot.chat import InputError, answer_turn
from bot.services import Services
from bot.types import Reply

log = logging.getLogger(__name__)
MODEL_ID = "kratom-qa"
MAX_BODY_BYTES = 256 * 1024


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


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = MODEL_ID
    messages: list[MessageIn] = Field(min_length=1, max_length=200)
    stream: bool = False


def error(status: int, message: str, kind: str = "invalid_request_error", headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status, headers=headers)


class RateLimiter:
    """Sliding one-minute window per client address."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.hits: dict[str, deque] = {}
        self.lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        if self.per_minute <= 0:
            return 0
        now = time.monotonic()
        with self.lock:
            q = self.hits.setdefault(client, deque())
            while q and now - q[0] > 60:
                q.popleft()
            if len(q) >= self.per_minute:
                return max(1, int(60 - (now - q[0])) + 1)
            q.append(now)
            if len(self.hits) > 10000:  # forget idle clients
                for k in [k for k, v in self.hits.items() if not v][:5000]:
                    del self.hits[k]
        return 0


class GuardMiddleware:
    """Pure ASGI (no per-request task overhead): body-size limit, rate limit, security headers."""

    def __init__(self, app, limiter: RateLimiter, csp: str):
        self.app, self.limiter = app, limiter
        self.headers = [(b"content-security-policy", csp.encode()), (b"x-content-type-options", b"nosniff")]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["method"] == "POST" and scope["path"].startswith(("/api/", "/v1/")):
            length = dict(scope["headers"]).get(b"content-length", b"")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                return await self._reply(send, error(413, f"request body larger than {MAX_BODY_BYTES} bytes"))
            if not length.isdigit():  # chunked: read up to the limit, then replay
                body, more = bytearray(), True
                while more:
                    message = await receive()
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
                    if len(body) > MAX_BODY_BYTES:
                        return await self._reply(send, error(413, f"request body larger than {MAX_BODY_BYTES} bytes"))
                replay = [{"type": "http.request", "body": bytes(body), "more_body": False}]

                async def receive():  # noqa: F811 - the replayed body
                    return replay.pop() if replay else {"type": "http.disconnect"}
            client = scope.get("client") or ("unknown", 0)
            wait = self.limiter.retry_after(client[0])
            if wait:
                return await self._reply(send, error(429, "too many requests; slow down", "rate_limit_error",
                                                     {"Retry-After": str(wait)}))

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in self.headers if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _reply(self, send, response: JSONResponse) -> None:
        async def no_body():
            return {"type": "http.disconnect"}

        await response({"type": "http"}, no_body, send)


def _messages(body: ChatRequest | CompletionRequest) -> list[dict]:
    return [m.model_dump() for m in body.messages]


def reply_payload(reply: Reply) -> dict:
    return {
        "route": reply.route,
        "safety_net": reply.safety_net,
        "answer": reply.text,
        "citations": [c.as_dict() for c in reply.citations],
        "resources": [r.as_dict() for r in reply.resources],
    }


def public_reasons(reply: Reply) -> list[dict]:
    """Rule ids, scores and document ids: never user text."""
    out = []
    for r in reply.reasons:
        if "rule" in r or "suppressed" in r or "input" in r or "retrieval" in r or r.get("source") in ("model", "output_check"):
            out.append({k: v for k, v in r.items() if k != "text"})
    return out


def create_app(services: Services, with_ui: bool = True) -> FastAPI:
    settings = services.settings
    app = FastAPI(title="kratom-qa", version=__version__,
                  description="Answers questions about kratom only from vetted, cited sources.")
    limiter = RateLimiter(settings.rate_limit_per_minute)
    if settings.allowed_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins, allow_methods=["GET", "POST"],
                           allow_headers=["*"])
    frame_ancestors = " ".join(["'self'", *settings.allowed_origins])

    app.add_middleware(GuardMiddleware, limiter=limiter, csp=f"frame-ancestors {frame_ancestors}")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        if first.get("type") == "json_invalid":
            return error(400, "request body is not valid JSON")
        return error(422, f"{where or 'body'}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError):
        return error(422, str(exc))

    @app.get("/healthz")
    def healthz() -> dict:
        stats = services.index.stats()
        return {"status": "ok" if stats["chunks"] else "no_index", "documents": stats["documents"],
                "chunks": stats["chunks"], "index_version": stats["version"], "version": __version__}

    @app.post("/api/chat")
    def chat(body: ChatRequest) -> dict:
        return reply_payload(answer_turn(_messages(body), services))

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "kratom-qa"}]}

    @app.post("/v1/chat/completions")
    def completions(body: CompletionRequest):
        reply = answer_turn(_messages(body), services)
        metadata = {"route": reply.route, "safety_net": reply.safety_net, "citations": [c.as_dict() for c in reply.citations],
                    "resources": [r.as_dict() for r in reply.resources], "reasons": public_reasons(reply)}
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if not body.stream:
            return {
                "id": cid, "object": "chat.completion", "created": created, "model": body.model or MODEL_ID,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "metadata": metadata,
            }

        def events():  # the reply was fully checked before the first byte
            base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model or MODEL_ID}
            first = {**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}],
                     "metadata": metadata}
            yield f"data: {json.dumps(first)}\n\n"
            for piece in chunk_text(reply.text):
                yield f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': {'content': piece}, 'finish_reason': None}]})}\n\n"
            last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "metadata": metadata}
            yield f"data: {json.dumps(last)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(request: Request, rest: str):
        """Wrong path or method under the API prefixes: a JSON error, not the chat page's 404."""
        known = {"/api/chat": "POST", "/v1/chat/completions": "POST", "/v1/models": "GET"}
        path = request.url.path.rstrip("/")
        if path in known:
            return error(405, f"{request.method} is not allowed on {path}; use {known[path]}",
                         headers={"Allow": known[path]})
        return error(404, f"no API endpoint at {path}; see /docs")

    if with_ui:
        from bot.ui import mount_ui

        app = mount_ui(app, services)
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
