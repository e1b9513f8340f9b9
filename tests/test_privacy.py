"""What a running server writes to its log: routes, timings and document ids, never user text."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.helpers import RunningServer

MARKER = "zebra-marker-4711"
pytestmark = pytest.mark.slow


def start_server(tmp_path_factory, services, name: str, env: dict | None = None) -> RunningServer:
    """A separate server reusing the session's index; its log lives in a fresh tmp dir."""
    return RunningServer(
        tmp_path_factory.mktemp(name), env={"KQA_DATA_DIR": str(services.settings.data_dir), **(env or {})}
    )


def fragment(text: str) -> str:
    """A plain run of the reply text that a log line would show verbatim."""
    return re.search(r"[A-Za-z0-9 ,.()]{30,}", text).group(0).strip()


def send_marked_messages(url: str) -> dict:
    """Several turns (and bad requests) that all carry MARKER; returns the replies by name."""
    replies = {}
    with httpx.Client(base_url=url, timeout=120) as c:

        def chat(name: str, content: str, path: str = "/api/chat") -> None:
            r = c.post(path, json={"messages": [{"role": "user", "content": content}]})
            assert r.status_code == 200, r.text
            replies[name] = r.json()

        chat("answer", f"{MARKER} is kratom safe for my liver?")
        chat("emergency", f"{MARKER} my friend took kratom and won't wake up")
        chat("openai", f"{MARKER} can kratom hurt the liver?", "/v1/chat/completions")
        chat("too_long", f"{MARKER} is kratom safe for my liver? " + "x" * 3000)
        bad = c.post("/api/chat", json={"messages": [{"role": "robot", "content": MARKER}]})
        assert bad.status_code == 422
        bad = c.post(
            "/api/chat", content=f'{{"messages": "{MARKER}', headers={"content-type": "application/json"}
        )
        assert bad.status_code == 400
    assert replies["answer"]["route"] == "answer" and replies["answer"]["citations"]
    assert replies["emergency"]["route"] == "emergency"
    return replies


def test_default_log_has_routes_and_doc_ids_but_no_user_text(tmp_path_factory, services):
    srv = start_server(tmp_path_factory, services, "privacy-default")
    try:
        replies = send_marked_messages(srv.url)
        log = srv.log()
    finally:
        srv.stop()
    assert MARKER not in log
    assert re.search(r"route\W+answer", log), log[-2000:]
    assert re.search(r"route\W+emergency", log), log[-2000:]
    for c in replies["answer"]["citations"]:
        assert c["doc_id"] in log
    assert fragment(replies["answer"]["answer"]) not in log  # nor the reply text
    assert fragment(replies["emergency"]["answer"]) not in log


def test_log_conversation_text_setting_logs_the_reply(tmp_path_factory, services):
    srv = start_server(tmp_path_factory, services, "privacy-text", {"KQA_LOG_CONVERSATION_TEXT": "true"})
    try:
        replies = send_marked_messages(srv.url)
        log = srv.log()
    finally:
        srv.stop()
    assert fragment(replies["answer"]["answer"]) in log
    assert fragment(replies["emergency"]["answer"]) in log
    assert re.search(r"route\W+emergency", log)
