"""HTTP API on the same server as the chat: FastAPI with Gradio mounted at `/`.

    GET  /healthz                status, documents, chunks, index version
    POST /api/chat               {messages} -> the reply's parts (bot/render.py `as_json`)
    POST /v1/chat/completions    OpenAI-compatible (also stream: true)
    POST /v1/responses           OpenAI Responses API, a thin mapping onto the same turn
    GET  /v1/models[/{id}]       the one model, for OpenAI clients
    GET  /embed.js               one script tag: a floating chat button for allowed sites (bot/embed.py)

The route is in the `x-kqa-route` header, in `metadata` (OpenAI's Dict[str, str]) and, with
citations, resources and reasons, under `kratom_qa` (bot/openai_compat.py). Bad requests get
JSON 4xx errors (OpenAI's shape under /v1: a string `code` and `param`), never a 500.

Read top-down: `middleware()` is every request's path through bot/middleware.py, in order;
`api_router()` holds every JSON endpoint, with the response models of bot/schemas.py (what
`/openapi.json` shows); `add_api_fallback()` answers other paths under /api and /v1 from that
router's own table; `create_app()` puts them together and mounts the chat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware import Middleware
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from bot import __version__
from bot.chat import InputError, answer_turn
from bot.embed import add_embed_route
from bot.middleware import (
    API_PREFIXES,
    MAX_BODY_BYTES,
    BodyLimit,
    ErrorReplies,
    Gate,
    GradioGate,
    RateLimit,
    RateLimiter,
    Refused,  # noqa: F401  (bot/ui.py's gate raises it; imported from here)
    SecurityHeaders,
    StripTrailingSlash,
    error,
)
from bot.openai_compat import (
    MODEL_ID,
    Answer,
    ParamError,
    TokenCounter,
    Turn,
    parse_chat_request,
    parse_responses_request,
    route_headers,
)
from bot.render import as_json
from bot.schemas import (
    ChatCompletion,
    ChatReply,
    ChatRequest,
    ErrorReply,
    Health,
    ModelCard,
    ModelList,
    ResponseObject,
)
from bot.services import Services
from bot.settings import Settings
from guardrails.reasons import InputProblem

INPUT_PROBLEMS = {
    "too_long": "a user message is longer than {chars} characters",
    "too_many_turns": "more than {turns} messages in one conversation",
    "empty": "the last user message is empty",
}


def middleware(settings: Settings, gate: Gate | None = None) -> list[Middleware]:
    """The one order every request passes, outermost first (starlette's `build_middleware_stack`).

    CORS is outermost, so our own 413/429/500 carry CORS headers too. It is always present: with
    no allowed origins it allows none, and Gradio's own CORS (which trusts any localhost page,
    with credentials) stands aside when the parent app has one. The rate limit comes before the
    body is read, and the Gradio gate sees only a body within the cap.
    """
    frame_ancestors = " ".join(["'self'", *settings.allowed_origins])
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
            expose_headers=["x-kqa-route", "x-kqa-safety-net"],
        ),
        Middleware(SecurityHeaders, csp=f"frame-ancestors {frame_ancestors}"),
        Middleware(ErrorReplies),
        Middleware(RateLimit, limiter=RateLimiter(settings.rate_limit_per_minute)),
        Middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, timeout=settings.request_timeout_seconds),
        *([Middleware(GradioGate, gate=gate)] if gate is not None else []),
        Middleware(StripTrailingSlash),
    ]


def add_error_handlers(app: FastAPI) -> None:
    """Bad requests get OpenAI's error shape; under /v1 a bad body is a 400, as OpenAI clients expect."""

    def status_for(request: Request) -> int:
        return 400 if request.url.path.startswith("/v1/") else 422

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        if first.get("type") == "json_invalid":
            return error(400, "request body is not valid JSON", code="invalid_json")
        message = f"{where or 'body'}: {first.get('msg', 'invalid request')}"
        return error(status_for(request), message, param=where or None)

    @app.exception_handler(ParamError)
    async def bad_param(request: Request, exc: ParamError) -> JSONResponse:
        return error(exc.status, exc.message, param=exc.param, code=exc.code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        return error(status_for(request), str(exc), param="messages")


def api_router(services: Services) -> APIRouter:
    """Every JSON endpoint: `/healthz`, `/api/chat` and the OpenAI-compatible `/v1/...`."""
    settings = services.settings
    count_tokens = TokenCounter(services.encoder._model.tokenizer)
    router = APIRouter(responses={"4XX": {"model": ErrorReply, "description": "A request we will not serve"}})

    @router.get("/healthz", response_model=Health, response_model_exclude_none=True)
    def healthz() -> Health:
        """What answers come from now: the index version the retriever has loaded, not the pointer's."""
        served, latest = services.retriever.stats(), services.index.version
        return Health(
            status="ok" if served["chunks"] else "no_index",
            **served,
            version=__version__,
            # switched by another process; loaded within 30 s
            index_pending_version=latest if latest != served["index_version"] else None,
        )

    @router.post("/api/chat", response_model=ChatReply)
    def chat(body: ChatRequest) -> dict[str, Any]:
        """A reply's parts (`bot/render.py` `as_json`, as `kratom-qa ask --json` prints them)."""
        messages = [m.model_dump() for m in body.messages]
        return as_json(answer_turn(messages, services, lang=body.lang))

    card = ModelCard(id=MODEL_ID)

    @router.get("/v1/models", response_model=ModelList)
    def models() -> ModelList:
        return ModelList(data=[card])

    @router.get("/v1/models/{model_id:path}", response_model=ModelCard)
    def model(model_id: str) -> ModelCard | JSONResponse:
        if model_id != MODEL_ID:
            return error(
                404,
                f"no model {model_id!r}; this server serves {MODEL_ID!r}",
                param="model",
                code="model_not_found",
            )
        return card

    def openai_turn(turn: Turn) -> Answer:
        """One turn for an OpenAI-shaped request. The web chat answers a too-long or empty message
        with a polite decline; an API client gets a 400 naming `messages` (urgent help still wins)."""
        reply = answer_turn(turn.messages, services, lang=turn.lang)
        problem = next((r.key for r in reply.reasons[:1] if isinstance(r, InputProblem)), None)
        if problem and reply.route == "decline":
            why = INPUT_PROBLEMS[problem].format(chars=settings.max_message_chars, turns=settings.max_turns)
            raise ParamError(why, "messages", "invalid_value")
        return Answer(reply, turn, count_tokens)

    def openai_reply(
        turn: Turn,
        whole: Callable[[Answer], dict[str, Any]],
        events: Callable[[Answer], Iterator[str]],
    ) -> JSONResponse | StreamingResponse:
        """One OpenAI-shaped reply: `whole(answer)` is the JSON body, `events(answer)` the stream."""
        answer = openai_turn(turn)
        headers = route_headers(answer.reply)
        if not turn.stream:
            return JSONResponse(whole(answer), headers=headers)
        # the reply was fully checked before the first byte
        return StreamingResponse(events(answer), media_type="text/event-stream", headers=headers)

    # The bodies are checked by bot/openai_compat.py (so errors name OpenAI's `param`): free-form here.
    @router.post("/v1/chat/completions", response_model=ChatCompletion)
    def completions(body: Any = Body(None)) -> JSONResponse | StreamingResponse:
        return openai_reply(parse_chat_request(body), Answer.completion, Answer.completion_chunks)

    @router.post("/v1/responses", response_model=ResponseObject)
    def responses(body: Any = Body(None)) -> JSONResponse | StreamingResponse:
        return openai_reply(parse_responses_request(body), Answer.response, Answer.response_events)

    return router


def add_api_fallback(app: FastAPI, router: APIRouter) -> None:
    """Wrong path or method under the API prefixes: a JSON error, not the chat page's 404.

    A path the router has, asked with another method, is a 405 naming the router's methods for it."""

    def unknown(request: Request) -> JSONResponse:
        path = request.url.path.rstrip("/")
        scope = {**request.scope, "path": path}
        allowed = sorted(
            method
            for route in router.routes
            if isinstance(route, APIRoute) and route.matches(scope)[0] is Match.PARTIAL
            for method in route.methods or ()
        )
        if allowed:
            allow = ", ".join(allowed)
            return error(
                405, f"{request.method} is not allowed on {path}; use {allow}", headers={"Allow": allow}
            )
        return error(404, f"no API endpoint at {path}; see /docs")

    for prefix in API_PREFIXES:
        app.add_api_route(
            prefix + "{rest:path}",
            unknown,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            include_in_schema=False,
        )


def create_app(services: Services, with_ui: bool = True) -> FastAPI:
    demo = None
    if with_ui:
        from bot.ui import build_ui, gradio_gate

        demo = build_ui(services)
    app = FastAPI(
        title="kratom-qa",
        version=__version__,
        description="Answers questions about kratom only from vetted, cited sources.",
        middleware=middleware(services.settings, gradio_gate(demo) if demo else None),
    )
    add_error_handlers(app)
    router = api_router(services)
    app.include_router(router)
    add_embed_route(app, services.settings.allowed_origins)  # GET /embed.js: the chat button for host sites
    add_api_fallback(app, router)
    if demo is not None:
        from bot.ui import mount_ui

        app = mount_ui(app, demo, services)
    return app
