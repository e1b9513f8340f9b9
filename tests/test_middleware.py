"""The middleware stack (bot/middleware.py in bot/api.py's order) around a small real app.

The same stack guards the real server (tests/test_security.py, tests/test_api.py); here each
middleware's promise is checked in-process, without a model, by counting what reaches the app.
"""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from bot.api import middleware
from bot.middleware import MAX_BODY_BYTES, Refused
from tests.conftest import make_settings

SECRET = "my own words, which no log may keep"
ORIGIN = "https://health.example"


@pytest.fixture
def stack(tmp_path):
    """An app behind the real stack: 2 POSTs a minute, one allowed origin, a gate that counts."""
    seen: dict[str, list] = {"app": [], "gate": []}

    def gate(method: str, path: str, body: bytes) -> bytes:
        seen["gate"].append((method, path, body))
        if path == "/refused":
            raise Refused(404, "the chat takes no files")
        return body.replace(b"before", b"after")

    settings = make_settings(tmp_path, rate_limit_per_minute=2, allowed_origins=[ORIGIN])
    app = FastAPI(middleware=middleware(settings, gate))

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def echo(request: Request, path: str) -> dict:
        body = await request.body()
        seen["app"].append((request.method, request.url.path, body))
        if path == "boom":
            raise RuntimeError(SECRET)
        return {"path": request.url.path, "bytes": len(body), "body": body.decode()}

    with TestClient(app, raise_server_exceptions=False, headers={"Origin": ORIGIN}) as client:
        yield client, seen


def assert_guarded(r) -> None:
    """What every reply carries, our own errors included: the security and CORS headers."""
    assert "frame-ancestors 'self' " + ORIGIN in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["access-control-allow-origin"] == ORIGIN


def test_an_exception_becomes_a_json_500_whose_log_names_the_place_not_the_text(stack, caplog):
    client, _ = stack
    with caplog.at_level(logging.ERROR, logger="bot.middleware"):
        r = client.get("/boom")
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    assert_guarded(r)
    assert "unhandled RuntimeError on GET /boom" in caplog.text
    assert SECRET not in caplog.text and SECRET not in r.text


def test_a_body_over_the_cap_is_refused_413_before_the_app_sees_it(stack):
    client, seen = stack
    r = client.post("/v1/chat/completions", content=b"x" * (MAX_BODY_BYTES + 1))
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    assert_guarded(r)
    assert seen["app"] == []
    r = client.post("/v1/chat/completions", content=b"x" * MAX_BODY_BYTES)
    assert r.json()["bytes"] == MAX_BODY_BYTES


def test_the_third_post_in_a_minute_is_refused_429_and_gets_not_are_counted(stack):
    client, seen = stack
    assert [client.post("/api/chat", content=b"{}").status_code for _ in range(2)] == [200, 200]
    r = client.post("/api/chat", content=b"{}")
    assert r.status_code == 429 and r.json()["error"]["type"] == "rate_limit_error"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert_guarded(r)
    assert len(seen["app"]) == 2
    assert client.get("/healthz").status_code == 200


def test_the_gate_sees_every_request_outside_the_api_and_only_those(stack):
    client, seen = stack
    assert client.post("/gradio_api/queue/join", content=b"before").json()["body"] == "after"
    assert client.get("/config").status_code == 200
    assert client.post("/api/chat", content=b"before").json()["body"] == "before"
    assert [(m, p) for m, p, _ in seen["gate"]] == [("POST", "/gradio_api/queue/join"), ("GET", "/config")]
    r = client.get("/refused")
    assert r.status_code == 404 and r.json()["error"]["message"] == "the chat takes no files"
    assert_guarded(r)
    assert ("GET", "/refused", b"") not in seen["app"]


def test_api_paths_lose_a_trailing_slash(stack):
    client, _ = stack
    assert client.get("/v1/models/").json()["path"] == "/v1/models"
    assert client.get("/gradio_api/info/").json()["path"] == "/gradio_api/info/"
