"""`serve` listens first and loads behind a small ASGI app (issue #15: start-up goals).

`Starting` is the app uvicorn serves from the first second. While the models, the index and the
web chat load (in a thread, `bot.cli.cmd_serve`), it answers:

    GET  /healthz          503 {"status": "loading", "step": ..., "api": "loading"|"ready"}
    /api/*, /v1/*          503 JSON error (OpenAI's shape, code "loading") + Retry-After
    any other page         503 HTML page naming the steps done and the current one; it
                           reloads itself every 2 s, so it turns into the chat when ready

Once the turn path is loaded the API app (`create_app(services, with_ui=False)`) takes
`/api/*` and `/v1/*`: the API answers before the web chat (Gradio) is built. Then the whole app
(API + chat) takes every path. Each app's lifespan (Gradio's queue starts there) runs when it is
switched in and ends with the server. Nothing here reads a request body or logs one.
"""

from __future__ import annotations

import asyncio
import gc
import html
import json
import threading
import time
from collections.abc import Callable

RETRY_AFTER_SECONDS = 2
API_PREFIXES = ("/api/", "/v1/")


class Starting:
    def __init__(self, allowed_origins: list[str] | None = None):
        self.started = time.perf_counter()
        self.step = "starting"
        self.done: list[tuple[str, float]] = []
        self.api = None  # the API app, once the turn path is loaded
        self.app = None  # the whole app (API + web chat), once built
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_ready = threading.Event()
        self._lifespans: list[tuple[asyncio.Queue, asyncio.Queue, asyncio.Task]] = []
        ancestors = " ".join(["'self'", *(allowed_origins or [])])
        self.headers = [
            (b"cache-control", b"no-store"),
            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-security-policy", f"frame-ancestors {ancestors}".encode()),
        ]

    # ---- progress, from the loading thread ------------------------------------------------

    def begin(self, label: str) -> None:
        self.step = label

    def finish(self, label: str, seconds: float) -> None:
        self.done.append((label, seconds))

    def activate(self, app, whole: bool, timeout: float = 120) -> None:
        """Switch `app` in (after its lifespan startup): for the API paths, or for all (`whole`)."""
        if not self._loop_ready.wait(timeout):
            raise RuntimeError("the server's event loop never started")
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._start_lifespan(app), self._loop).result(timeout)
        if whole:
            self.app = app
        else:
            self.api = app

    # ---- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        app = self.app
        if app is None and self.api is not None and scope.get("path", "").startswith(API_PREFIXES):
            app = self.api
        if app is not None:
            return await app(scope, receive, send)
        if scope["type"] == "http":
            return await self._loading(scope, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})  # try again later

    async def _loading(self, scope, send) -> None:
        path, step = scope.get("path", ""), self.step
        if path == "/healthz":
            api = "ready" if self.api is not None else "loading"
            body = {"status": "loading", "step": step, "api": api, "seconds": self.elapsed()}
            await self._send(send, 503, "application/json", json.dumps(body).encode())
        elif path.startswith(API_PREFIXES) or scope.get("method") != "GET":
            message = f"the server is starting ({step}); retry in {RETRY_AFTER_SECONDS} s"
            error = {"message": message, "type": "server_error", "param": None, "code": "loading"}
            await self._send(send, 503, "application/json", json.dumps({"error": error}).encode())
        else:
            await self._send(send, 503, "text/html; charset=utf-8", self.page().encode())

    async def _send(self, send, status: int, kind: str, body: bytes) -> None:
        headers = [(b"content-type", kind.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers + self.headers})
        await send({"type": "http.response.body", "body": body})

    def elapsed(self) -> float:
        return round(time.perf_counter() - self.started, 1)

    def page(self) -> str:
        done = "".join(f"<li>{html.escape(label)}: done in {s:.1f} s</li>" for label, s in self.done)
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta http-equiv='refresh' content='{RETRY_AFTER_SECONDS}'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>kratom-qa is starting</title>"
            "<style>body{font:16px system-ui,sans-serif;max-width:640px;margin:40px auto;padding:0 16px}"
            ".now{font-weight:600}</style></head><body>"
            "<h1>kratom-qa is starting</h1>"
            f"<div role='status' aria-live='polite'><ol>{done}"
            f"<li class='now'>{html.escape(self.step)}... ({self.elapsed():.0f} s so far)</li></ol>"
            "<p>This page turns into the chat when it is ready.</p></div>"
            "<p><b>In an emergency, call your local emergency number now</b> (911 in the US, 999 in the UK).</p>"
            "</body></html>"
        )

    # ---- lifespans: ours answers uvicorn at once; each app switched in runs its own ----------

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._loop = asyncio.get_running_loop()
                self._loop_ready.set()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for inbox, outbox, task in reversed(self._lifespans):
                    await inbox.put({"type": "lifespan.shutdown"})
                    try:
                        await asyncio.wait_for(outbox.get(), 10)
                    except TimeoutError:
                        task.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start_lifespan(self, app) -> None:
        inbox: asyncio.Queue = asyncio.Queue()
        outbox: asyncio.Queue = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        task = asyncio.get_running_loop().create_task(app(scope, inbox.get, outbox.put))
        await inbox.put({"type": "lifespan.startup"})
        message = await outbox.get()
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"app start-up failed: {message.get('message', message['type'])}")
        self._lifespans.append((inbox, outbox, task))


def step_printer(starting: Starting, say: Callable[[str], None]):
    """A context-manager factory for one start-up step: printed by `say`, shown on the page."""
    import contextlib

    @contextlib.contextmanager
    def step(label: str):
        say(f"{label}...")
        starting.begin(label)
        began = time.perf_counter()
        yield
        seconds = time.perf_counter() - began
        starting.finish(label, seconds)
        say(f"  done in {seconds:.1f} s")

    return step


class PausedGC:
    """The cyclic garbage collector off while `serve` loads, then one collection and a freeze.

    Start-up creates millions of long-lived objects (torch's operator registrations, chromadb's and
    Gradio's pydantic models and FastAPI routes) and almost no cyclic garbage, so the collector's
    passes over them during the imports find nothing: with it off a warm start measured ~0.5 CPU-s
    less to the first answer and ~1.2 less to the chat page (issue #15). `settle()`, once the chat
    page is ready, collects what cycles there are (nothing leaks), moves the survivors to the
    permanent generation (`gc.freeze`, so later collections while serving skip them) and turns the
    collector back on. Leaving the block turns it back on whatever happened."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._was_enabled = False
        self.paused = False

    def __enter__(self) -> PausedGC:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self.paused = True
        return self

    def settle(self) -> None:
        with self._lock:
            if not self.paused:
                return
            gc.collect()
            gc.freeze()
            self._resume()

    def _resume(self) -> None:
        self.paused = False
        if self._was_enabled:
            gc.enable()

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self.paused:
                self._resume()
