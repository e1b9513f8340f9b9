"""`serve` listens first and loads behind `bot.startup.Starting` (issue #15: start-up goals).

While loading: /healthz answers 503 `loading` (so `wait_until_responds` keeps waiting), the API
503 + Retry-After in OpenAI's error shape (never a 500), any page a self-reloading progress page.
Then the API app takes /api and /v1, then the whole app every path, each after its lifespan
startup (Gradio's queue starts there)."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from bot.settings import Settings
from bot.startup import PausedGC, Starting
from tests.helpers import RunningServer, free_port


def listening(url: str, tries: int = 300) -> None:
    """Wait for any HTTP answer (a loading server answers 503, which is the point)."""
    import time

    for _ in range(tries):
        try:
            httpx.get(url + "/healthz", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(url)


def _app(name: str, events: list[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app):
        events.append(f"{name} up")
        yield
        events.append(f"{name} down")

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "app": name}

    @app.post("/api/chat")
    def chat():
        return {"app": name}

    @app.get("/")
    def page():
        return {"app": name}

    return app


@pytest.fixture()
def running():
    """A real uvicorn (bot.server.run) serving a `Starting`, in a thread; (starting, url, events)."""
    from bot.server import run

    port = free_port()
    starting, stops, events = Starting(["https://health.example"]), [], []
    settings = Settings(_env_file=None, host="127.0.0.1", port=port)
    thread = threading.Thread(target=run, args=(starting, settings, stops.append), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    listening(url)
    yield starting, url, events
    stops[0]()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_while_loading_every_path_says_so_with_503_and_retry_after(running):
    starting, url, _ = running
    starting.begin("Loading the embedding model")
    health = httpx.get(url + "/healthz")
    assert health.status_code == 503 and health.headers["retry-after"] == "2"
    assert health.json()["status"] == "loading" and health.json()["step"] == "Loading the embedding model"
    assert health.json()["api"] == "loading"
    for method, path in [("POST", "/api/chat"), ("POST", "/v1/chat/completions"), ("GET", "/v1/models")]:
        r = httpx.request(method, url + path, json={"messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 503 and r.headers["retry-after"] == "2", path
        assert r.json()["error"]["code"] == "loading" and r.json()["error"]["type"] == "server_error"
    starting.finish("Loading the embedding model", 1.25)
    starting.begin("Checking the index")
    page = httpx.get(url + "/?embed=1&locale=UK")
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "<meta http-equiv='refresh'" in page.text  # turns into the chat by itself
    assert "Loading the embedding model: done in 1.2 s" in page.text and "Checking the index..." in page.text
    assert "frame-ancestors 'self' https://health.example" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "999" in page.text and "911" in page.text  # emergency help never waits for the models


def test_the_api_app_answers_first_then_the_whole_app_each_after_its_lifespan(running):
    starting, url, events = running
    api, whole = _app("api", events), _app("whole", events)
    starting.activate(api, whole=False)
    assert events == ["api up"]
    assert httpx.post(url + "/api/chat").json() == {"app": "api"}
    assert httpx.get(url + "/healthz").status_code == 503  # the chat page is not ready yet
    assert httpx.get(url + "/healthz").json()["api"] == "ready"
    assert httpx.get(url + "/").status_code == 503
    starting.activate(whole, whole=True)
    assert events == ["api up", "whole up"]
    assert httpx.get(url + "/healthz").json() == {"status": "ok", "app": "whole"}
    assert httpx.post(url + "/api/chat").json() == {"app": "whole"}
    assert httpx.get(url + "/").json() == {"app": "whole"}


class _Node:
    pass


def test_paused_gc_frees_the_cycles_made_while_loading_once_settled():
    import gc
    import weakref

    try:
        with PausedGC() as paused:
            assert not gc.isenabled()
            node = _Node()
            node.me = node  # a cycle: only the collector frees it
            ref = weakref.ref(node)
            del node
            assert ref() is not None  # not collected while paused
            paused.settle()
            assert gc.isenabled() and ref() is None  # collected, nothing leaks
            assert gc.get_freeze_count() > 0  # the survivors moved out of later collections
            paused.settle()  # a second settle does nothing
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_paused_gc_resumes_when_loading_never_settles_and_keeps_a_disabled_collector_off():
    import gc

    with PausedGC():
        assert not gc.isenabled()
    assert gc.isenabled()  # e.g. the load failed: the collector is on again
    gc.disable()
    try:
        with PausedGC() as paused:
            paused.settle()
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


@pytest.mark.slow
def test_serve_listens_before_loading_and_a_load_failure_exits_with_the_error(tmp_path):
    """A broken policy fails in the loading thread: the server stops and the CLI names the error
    (exit 2), as it did when loading came before listening."""
    bad = tmp_path / "policy.yaml"
    bad.write_text("routes: [\n")
    srv = RunningServer(tmp_path, env={"KQA_POLICY_PATH": str(bad)}, wait=False)
    try:
        srv.wait_for_log("Listening on http://", timeout=120)
        assert srv.proc.wait(timeout=600) == 2
        log = srv.log()
        assert "policy" in log.lower() and "Traceback" not in log
        assert "chat on http://" not in log
    finally:
        srv.stop()
