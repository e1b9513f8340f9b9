"""Issue #18: each finding of the security probe, reproduced against a real `kratom-qa serve`.

One server per module, on its own copy of the session's index (one test moves its index
pointer). Each test talks from its own loopback source address (127.0.0.N), so the per-client
rate limit of one test never touches another's.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.helpers import RunningServer, free_port

pytestmark = pytest.mark.slow

RATE = 30  # POSTs per client per minute on this module's server
ORIGIN = "http://127.0.0.1:9"  # the one site allowed to embed the chat
MARKER = "okapi-marker-5521"
FILE_HISTORY = [  # issue #18's reproduction: a chat message naming a file on the server
    {
        "role": "user",
        "content": [{"type": "file", "file": {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}}],
    },
    {"role": "assistant", "content": [{"type": "text", "text": "x"}]},
    {"role": "user", "content": [{"type": "text", "text": "Is kratom legal?"}]},
]
_addresses = itertools.count(2)


@pytest.fixture(scope="module")
def secure(tmp_path_factory, services):
    """The server, its data dir and Gradio's cache dir."""
    root = tmp_path_factory.mktemp("security")
    data = root / "data"
    shutil.copytree(
        services.settings.data_dir, data, ignore=shutil.ignore_patterns("*.log", "feedback.jsonl*")
    )
    gradio_tmp = root / "gradio"
    srv = RunningServer(
        data,
        env={
            "KQA_RATE_LIMIT_PER_MINUTE": str(RATE),
            "KQA_ALLOWED_ORIGINS": ORIGIN,
            "KQA_CONCURRENCY": "2",
            "KQA_QUEUE_MAX_SIZE": "4",
            "KQA_REQUEST_TIMEOUT_SECONDS": "2",
            "KQA_FEEDBACK_MAX_BYTES": "65536",
            "GRADIO_TEMP_DIR": str(gradio_tmp),
        },
    )
    srv.data_dir, srv.gradio_tmp = data, gradio_tmp
    yield srv
    srv.stop()


def client(server, **kwargs) -> httpx.Client:
    """A client on a loopback address no other test uses (its own rate-limit bucket)."""
    address = f"127.0.0.{next(_addresses)}"
    return httpx.Client(
        base_url=server.url, timeout=60, transport=httpx.HTTPTransport(local_address=address), **kwargs
    )


@pytest.fixture()
def c(secure):
    with client(secure) as cl:
        yield cl


def post_json(c: httpx.Client, path: str, payload: object, **kwargs) -> httpx.Response:
    """POST with `json.dumps` (ASCII escapes), so a lone surrogate travels as JSON allows."""
    return c.post(
        path,
        content=json.dumps(payload),
        headers={"content-type": "application/json", **kwargs.pop("headers", {})},
        **kwargs,
    )


def assert_json_error(r: httpx.Response, *statuses: int) -> dict:
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json"), r.headers
    return r.json()["error"]


# ---- Gradio, over plain HTTP -------------------------------------------------------------------


@pytest.fixture(scope="module")
def events(secure) -> dict:
    """Gradio's event table from /config: {api_name: (fn_index, [input component types])}."""
    with httpx.Client(base_url=secure.url, timeout=60) as cl:
        config = cl.get("/config").json()
    types = {comp["id"]: comp["type"] for comp in config["components"]}
    return {d["api_name"]: (d["id"], [types[i] for i in d["inputs"]]) for d in config["dependencies"]}


def join(c: httpx.Client, fn_index: int, data: list, session: str, **extra) -> httpx.Response:
    return post_json(
        c,
        "/gradio_api/queue/join",
        {"fn_index": fn_index, "data": data, "session_hash": session, "event_data": None, **extra},
    )


def run_event(c: httpx.Client, fn_index: int, data: list, session: str, **extra) -> dict:
    """Join the queue and read the session's stream until this event completes; its last message."""
    r = join(c, fn_index, data, session, **extra)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    event_id = r.json()["event_id"]
    with c.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message["msg"] == "process_completed":
                    return message
    raise AssertionError("the event never completed")


def chat_turn(c: httpx.Client, events: dict, text: str, session: str) -> dict:
    """One turn through the web chat's own API event; the completed message."""
    fn_index, inputs = events["chat"]
    return run_event(c, fn_index, [text] + [None] * (len(inputs) - 1), session)


# ---- 1. Critical: no file reads through chat messages -------------------------------------------


def test_file_paths_in_a_chat_message_are_refused_on_every_event(secure, c, events):
    takers = {name: spec for name, spec in events.items() if {"chatbot", "state"} & set(spec[1])}
    assert len(takers) >= 10 and "_pop_last_user_message_1" in takers  # the undo event of the report
    statuses = {}
    for n, (name, (fn_index, inputs)) in enumerate(takers.items()):
        statuses[name] = join(c, fn_index, [FILE_HISTORY] * len(inputs), f"file-{n}").status_code
    statuses["run/chat"] = post_json(c, "/gradio_api/run/chat", {"data": [FILE_HISTORY] * 3}).status_code
    statuses["call/chat"] = post_json(c, "/gradio_api/call/chat", {"data": [FILE_HISTORY] * 3}).status_code
    statuses["upload"] = c.post("/gradio_api/upload", files={"files": ("x.txt", b"x")}).status_code
    assert all(400 <= s < 500 for s in statuses.values()), statuses
    time.sleep(1)  # anything accepted would have been copied by now
    copied = [p for p in secure.gradio_tmp.rglob("*") if p.is_file()] if secure.gradio_tmp.exists() else []
    assert copied == []
    assert c.get("/gradio_api/file=/etc/passwd").status_code >= 400
    assert "root:" not in c.get("/gradio_api/file=/etc/passwd").text


def test_gradio_own_file_checks_are_active(services):
    """Behind the middleware, Gradio itself refuses to copy a file nobody uploaded."""
    from fastapi import FastAPI
    from gradio import processing_utils
    from gradio.context import LocalContext

    from bot.ui import build_ui, mount_ui

    demo = build_ui(services)
    mount_ui(FastAPI(), demo, services)
    assert demo.has_launched
    token = LocalContext.blocks.set(demo)
    try:
        with pytest.raises(Exception, match="not uploaded|blocked|not allowed|Cannot move"):
            processing_utils._check_allowed("/etc/passwd", check_in_upload_folder=True)
    finally:
        LocalContext.blocks.reset(token)


# ---- 2. A lone surrogate is cleaned at the edge and never fails anyone's turn -------------------


@pytest.mark.parametrize("path", ["/api/chat", "/v1/chat/completions"])
def test_lone_surrogate_gets_a_normal_reply_from_the_api(c, path):
    r = post_json(c, path, {"messages": [{"role": "user", "content": "is kratom legal?\ud800 \udfff"}]})
    assert r.status_code == 200, r.text[:300]


def test_lone_surrogate_gets_a_normal_reply_in_the_web_chat(c, events):
    done = chat_turn(c, events, "is kratom legal?\ud800", "surrogate")
    assert done["success"], done
    assert "error" not in json.dumps(done["output"]).lower()[:200]


def test_one_bad_text_in_a_batch_fails_only_its_own_turn(encoder):
    """The batching encoder retries a failed batch item by item (the edge should never let one in)."""
    from bot.batching import BatchingEncoder

    release = threading.Event()

    class HeldFirst:  # the first forward pass waits until every turn is queued: they share the next batch
        dimension = encoder.dimension
        calls = 0

        def encode(self, texts, batch_size=64):
            HeldFirst.calls += 1
            if HeldFirst.calls == 1:
                release.wait(10)
            return encoder.encode(texts, batch_size=batch_size)

    batcher = BatchingEncoder(HeldFirst(), workers=1)
    texts = ["first"] + [f"question {i}" for i in range(6)] + ["bad \ud800 text"]
    with ThreadPoolExecutor(len(texts)) as pool:
        futures = [pool.submit(batcher.encode_one, t) for t in texts]
        time.sleep(0.5)
        release.set()
        outcomes = [f.exception(timeout=60) for f in futures]
    assert all(o is None for o in outcomes[:-1]), outcomes
    assert outcomes[-1] is not None


# ---- 3. Gradio POSTs are rate-limited and the queue is bounded ----------------------------------


def test_gradio_queue_joins_are_rate_limited_per_client(c, events):
    fn_index, inputs = events["lambda_1"]  # a queued event with no inputs: the cheapest to flood
    codes = [join(c, fn_index, [], f"flood-{i}").status_code for i in range(RATE + 15)]
    assert codes.count(200) <= RATE and codes[-1] == 429, codes
    r = join(c, fn_index, [], "flood-x")
    assert_json_error(r, 429)
    assert int(r.headers["retry-after"]) >= 1


def test_gradio_queue_is_bounded(secure, events):
    """Many clients at once: beyond KQA_QUEUE_MAX_SIZE waiting events, Gradio answers 503."""
    fn_index, inputs = events["chat"]
    clients = [client(secure) for _ in range(24)]
    try:
        with ThreadPoolExecutor(len(clients)) as pool:
            codes = list(
                pool.map(
                    lambda ic: join(
                        ic[1],
                        fn_index,
                        ["what is kratom? " * 20, None, None][: len(inputs)],
                        f"burst-{ic[0]}",
                    ).status_code,
                    enumerate(clients),
                )
            )
    finally:
        for cl in clients:
            cl.close()
    assert 503 in codes and set(codes) <= {200, 503}, codes


# ---- 4. Size caps on every route; sessions keep only what a turn needs ---------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/queue/join",
        "/gradio_api/run/chat",
        "/gradio_api/call/chat",
        "/api/chat",
        "/gradio_api/component_server",
    ],
)
def test_ten_mib_request_is_refused_413(c, events, path):
    big = "kratom " * (10 * 1024 * 1024 // 7)
    payload = {"fn_index": events["chat"][0], "session_hash": "big", "data": [big, None, None]}
    r = post_json(c, path, payload)
    err = assert_json_error(r, 413)
    assert "larger than" in err["message"]


def test_session_keeps_a_truncated_record_and_idle_sessions_expire(services):
    from gradio.state_holder import StateHolder

    from bot.ui import build_ui, expire_idle_sessions

    demo = build_ui(services)
    respond = next(fn.fn for fn in demo.fns.values() if getattr(fn.fn, "__name__", "") == "respond")

    async def last(stream):
        return [item async for item in stream][-1]

    *_, meta = asyncio.run(last(respond("is kratom legal? " + "x" * 50_000, [], [], None)))
    limit = services.settings.max_message_chars
    assert len(meta[-1]["user"]) <= limit and len(meta[-1]["assistant"]) <= 2 * limit

    holder = StateHolder()
    holder.set_blocks(demo)
    _ = holder["old"], holder["new"]
    import datetime

    holder.time_last_used["old"] -= datetime.timedelta(minutes=30)
    assert expire_idle_sessions(holder, idle_seconds=15 * 60) == 1
    assert "old" not in holder and "new" in holder


# ---- 5. Feedback is built from server-side state only ------------------------------------------


def test_feedback_saves_the_servers_reply_not_the_clients(secure, c, events):
    path = secure.data_dir / "feedback.jsonl"
    session = "feedback"
    done = chat_turn(c, events, "is kratom legal?", session)
    assert done["success"]
    like_index, like_inputs = events["on_feedback"]
    forged = [
        {"role": "user", "content": [{"type": "text", "text": MARKER}]},
        {"role": "assistant", "content": [{"type": "text", "text": MARKER * 12_000}]},
    ]
    before = path.stat().st_size if path.exists() else 0
    like = {"index": 1, "value": MARKER, "liked": True}
    codes = []
    for _ in range(5):  # the forged call of the report: client-sent history with a big reply
        r = join(c, like_index, [None, True, forged], session, event_data=like)
        codes.append(r.status_code)
    for _ in range(3):  # the real like, repeated
        r = join(c, like_index, [None, True][: len(like_inputs)], session, event_data=like)
        codes.append(r.status_code)
    time.sleep(1.5)
    text = path.read_text() if path.exists() else ""
    assert MARKER not in text
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 1, (codes, rows)  # one rating per reply
    assert rows[0]["conversation"]["user"] == "is kratom legal?"
    shown = done["output"]["data"][0]
    assert rows[0]["conversation"]["assistant"][:40] in shown
    assert path.stat().st_size - before < 10_000


def test_feedback_file_is_rotated_past_its_cap(tmp_path):
    from bot.feedback import save_feedback

    path = tmp_path / "feedback.jsonl"
    for _ in range(200):
        save_feedback(
            path,
            "answer",
            ["doc"],
            "up",
            {"user": "u" * 20_000, "assistant": "a" * 20_000},
            max_bytes=64 * 1024,
        )
    assert path.stat().st_size <= 64 * 1024
    assert (tmp_path / "feedback.jsonl.1").stat().st_size <= 64 * 1024
    assert len(list(tmp_path.iterdir())) == 2


# ---- 6. X-Forwarded-For does not choose the rate-limit key; keys expire ---------------------------


def test_x_forwarded_for_does_not_bypass_the_rate_limit(secure):
    """From 127.0.0.1, which uvicorn trusted by default (no other test here POSTs from it)."""
    with httpx.Client(
        base_url=secure.url, timeout=60, transport=httpx.HTTPTransport(local_address="127.0.0.1")
    ) as c:
        codes = [
            post_json(
                c, "/api/chat", {}, headers={"X-Forwarded-For": f"10.9.{i // 250}.{i % 250}"}
            ).status_code
            for i in range(RATE + 10)
        ]
    assert codes[:RATE] == [422] * RATE and set(codes[RATE:]) == {429}, codes


def test_rate_limiter_forgets_idle_clients_and_stays_bounded():
    from bot.api import RateLimiter

    now = [0.0]
    limiter = RateLimiter(5, max_clients=1000, clock=lambda: now[0])
    for i in range(30_000):
        assert limiter.retry_after(f"10.0.{i // 256}.{i % 256}") == 0
        assert len(limiter.buckets) <= 1000
    now[0] += 61
    limiter.retry_after("late")
    assert list(limiter.buckets) == ["late"]
    assert [limiter.retry_after("x") for _ in range(6)][-1] >= 1  # the limit itself still holds


# ---- 7. Headers on every reply, CORS, errors, timeouts, index errors, healthz, user bubble ------


def test_413_and_429_carry_cors_and_security_headers(secure):
    with client(secure, headers={"Origin": ORIGIN}) as cl:
        replies = [post_json(cl, "/api/chat", {"messages": [{"role": "user", "content": "x" * 300_000}]})]
        replies += [post_json(cl, "/api/chat", {}) for _ in range(RATE + 1)]
    for r in (replies[0], replies[-1]):
        assert r.status_code in (413, 429), r.status_code
        assert r.headers.get("access-control-allow-origin") == ORIGIN, dict(r.headers)
        assert r.headers.get("x-content-type-options") == "nosniff"
        assert "frame-ancestors" in r.headers.get("content-security-policy", "")
    assert replies[-1].status_code == 429


def test_gradio_does_not_trust_other_localhost_origins(server, c):
    """With no allowed origins (the session's server), no page gets CORS access, localhost or not."""
    for origin in ("http://localhost:5555", "http://127.0.0.1:5555", "null"):
        r = httpx.get(server.url + "/config", headers={"Origin": origin})
        assert "access-control-allow-origin" not in r.headers, (origin, dict(r.headers))
        assert "access-control-allow-credentials" not in r.headers
    assert c.get("/config", headers={"Origin": ORIGIN}).headers.get("access-control-allow-origin") == ORIGIN


def test_malformed_gradio_events_get_a_4xx_without_internals_or_logged_text(secure, c, events):
    fn_index, inputs = events["chat"]
    bad = [
        [MARKER],  # too few values
        [{"text": MARKER}, None, None],
    ]
    for data in bad:
        r = join(c, fn_index, data, "malformed")
        assert_json_error(r, 422)
        assert "object at 0x" not in r.text and MARKER not in r.text
    history_index, _ = events["lambda"]  # takes the chatbot's history
    for history in (
        [{"role": "user", "content": {"nested": MARKER}}],
        [{"role": MARKER, "content": "x"}],
        MARKER,
    ):
        r = join(c, history_index, [history], "malformed")
        assert_json_error(r, 422)
        assert "object at 0x" not in r.text and MARKER not in r.text
    undo_index, undo_inputs = events["_pop_last_user_message_1"]
    r = join(
        c, undo_index, [[{"role": "user", "content": [{"type": "text", "text": 5}]}, MARKER]], "malformed"
    )
    assert_json_error(r, 422)
    for path in ("/gradio_api/queue/join", "/gradio_api/run/chat"):
        assert_json_error(
            c.post(path, content=b"{not json", headers={"content-type": "application/json"}), 400, 422
        )
    time.sleep(0.5)
    assert MARKER not in secure.log()


def test_idle_and_half_sent_connections_are_closed(secure):
    def closed_within(payload: bytes, seconds: float) -> bool:
        with socket.create_connection(("127.0.0.1", secure.port), timeout=seconds) as s:
            if payload:
                s.sendall(payload)
            try:
                while s.recv(4096):
                    pass  # a 408 reply is fine too; the server must close
                return True
            except TimeoutError:
                return False

    assert closed_within(b"", 6)  # never sends anything
    assert closed_within(b"POST /api/chat HTTP/1.1\r\nHost: x\r\n", 6)  # half-sent head
    assert closed_within(
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", 6
    )  # half-sent body


def test_corrupt_index_stops_serve_with_one_error_line(tmp_path):
    chroma = tmp_path / "chroma"
    chroma.mkdir()
    (chroma / "chroma.sqlite3").write_bytes(b"this is not a database" * 200)
    out = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "KQA_DATA_DIR": str(tmp_path)},
    )
    assert out.returncode == 2, out.stderr[-2000:]
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    errors = [
        ln for ln in lines if ln.startswith("error: ")
    ]  # start-up steps print before it, then one error line
    assert len(errors) == 1 and lines[-1] == errors[0] and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "kratom-qa ingest" in errors[0] and str(chroma) in errors[0]


def test_healthz_reports_the_index_answers_come_from(secure, c):
    from bot.index import open_index
    from bot.settings import Settings

    served = c.get("/healthz").json()
    index = open_index(Settings(_env_file=None, data_dir=secure.data_dir))
    stats = index.stats()
    # the last step of an ingest in another process: the pointer moves to a new version
    index.switch(
        stats["collection"], stats["version"] + 1, stats["documents"], stats["chunks"], stats["model"]
    )
    now = c.get("/healthz").json()
    assert now["index_version"] == served["index_version"] == stats["version"]
    assert now["index_pending_version"] == stats["version"] + 1


def test_users_own_bubble_shows_markdown_and_html_literally(c, events):
    text = "![x](http://127.0.0.1:9/pixel.png) [live](https://example.com) <b>bold</b> https://example.com"
    save_index, _ = events["_clear_and_save_textbox"]
    append_index, _ = events["_append_message_to_history"]
    session = "bubble"
    assert run_event(c, save_index, [text], session)["success"]
    done = run_event(c, append_index, [None, []], session)
    shown = json.dumps(done["output"]["data"])
    assert "http://127.0.0.1:9/pixel.png" not in shown and "<b>" not in shown, shown[:500]
    assert "\\\\!\\\\[x\\\\]" in shown  # every mark escaped: CommonMark shows the text as typed

    from bot.ui import literal_markdown, unliteral_markdown

    assert unliteral_markdown(literal_markdown(text + " \\ back\\slash")) == text + " \\ back\\slash"
