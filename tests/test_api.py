"""The HTTP API, over real HTTP against a real `kratom-qa serve` (no mocks)."""

from __future__ import annotations

import json

import httpx
import pytest

from guardrails.amounts import find_amounts
from tests.helpers import RunningServer

LIVER = "Can kratom damage your liver?"
DOSING = "how many grams should I take for my back pain?"
EMERGENCY = "my friend took kratom and won't wake up"
SPANISH_EMERGENCY = "mi amigo tomó mucho kratom y no respira bien"


def user(text: str) -> dict:
    return {"messages": [{"role": "user", "content": text}]}


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=120) as c:
        yield c


def chat(client: httpx.Client, body) -> dict:
    r = client.post("/api/chat", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def assert_json_error(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers
    err = r.json()["error"]
    assert isinstance(err, dict) and err["message"], err
    assert isinstance(err["code"], str) and err["code"], err  # OpenAI's shape: a string code and a param
    assert "param" in err, err
    return err


def test_healthz_reports_a_built_index(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    h = r.json()
    assert h["status"] == "ok"
    assert h["documents"] >= 45
    assert h["chunks"] > 0
    assert h["index_version"] >= 1


# --- routes ------------------------------------------------------------------------------


def test_liver_question_gets_a_cited_answer(client):
    out = chat(client, user(LIVER))
    assert out["route"] == "answer"
    assert "[1]" in out["answer"] and "Sources" in out["answer"]
    assert out["citations"], out
    for c in out["citations"]:
        for key in ("url", "publisher", "title", "year"):
            assert c[key], (key, c)
        assert c["url"].startswith("https://"), c["url"]
    assert out["resources"] == []


def test_dosing_question_is_refused_without_any_amount(client):
    out = chat(client, user(DOSING))
    assert out["route"] == "dosing_refusal"
    assert find_amounts(out["answer"]) == [], find_amounts(out["answer"])
    assert "1-800-222-1222" in {r["number"] for r in out["resources"]}


def test_unresponsive_friend_is_an_emergency_with_911_first(client):
    out = chat(client, user(EMERGENCY))
    assert out["route"] == "emergency"
    assert "911" in out["answer"].splitlines()[0]
    numbers = {r["number"] for r in out["resources"]}
    assert {"911", "1-800-222-1222"} <= numbers
    assert out["citations"] == []


def test_emergency_spread_over_two_turns_is_still_an_emergency(client):
    out = chat(
        client,
        {
            "messages": [
                {"role": "user", "content": "my friend took a lot of kratom"},
                {"role": "assistant", "content": "..."},
                {"role": "user", "content": "he won't wake up"},
            ]
        },
    )
    assert out["route"] == "emergency"
    assert "911" in out["answer"].splitlines()[0]


def test_spanish_emergency_is_answered_in_spanish(client):
    out = chat(client, user(SPANISH_EMERGENCY))
    assert out["route"] == "emergency"
    assert "Llama al 911" in out["answer"].splitlines()[0]
    assert {"911", "1-800-222-1222"} <= {r["number"] for r in out["resources"]}


def test_openai_content_parts_are_read_as_text(client):
    out = chat(
        client,
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": EMERGENCY},
                        {"type": "image_url", "image_url": {"url": "https://x.invalid/a.png"}},
                    ],
                }
            ]
        },
    )
    assert out["route"] == "emergency"


# --- bad requests: JSON 4xx, never 500 ----------------------------------------------------


def post_raw(client: httpx.Client, content: bytes | str, path: str = "/api/chat") -> httpx.Response:
    return client.post(path, content=content, headers={"content-type": "application/json"})


def test_bad_json_gets_400_not_500(client):
    assert_json_error(post_raw(client, b'{"messages": [{"role": "user", "content": '), 400)


def test_invalid_utf8_body_gets_400_not_500(client):
    assert_json_error(post_raw(client, b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}'), 400)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="messages_missing"),
        pytest.param({"messages": "hello"}, id="messages_not_a_list"),
        pytest.param({"messages": [{"role": "robot", "content": "hi"}]}, id="role_robot"),
        pytest.param({"messages": [{"role": "user", "content": 42}]}, id="content_a_number"),
        pytest.param({"messages": []}, id="empty_messages"),
        pytest.param({"messages": [None]}, id="message_null"),
        pytest.param({"messages": [{"role": "user"}]}, id="content_missing"),
        pytest.param({"messages": [{"role": "assistant", "content": "hi"}]}, id="no_user_message"),
        pytest.param(
            {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
            id="content_part_text_a_number",
        ),
        pytest.param([], id="body_a_list"),
    ],
)
@pytest.mark.parametrize("path,status", [("/api/chat", 422), ("/v1/chat/completions", 400)])
def test_invalid_request_gets_4xx_json_error_not_500(client, path, status, body):
    assert_json_error(client.post(path, json=body), status)  # OpenAI clients expect 400


def test_unknown_field_in_api_chat_gets_422(client):
    # (the OpenAI endpoint accepts extra fields such as temperature or user)
    assert_json_error(client.post("/api/chat", json=user(LIVER) | {"unexpected": 1}), 422)


def test_300kb_body_gets_413(client):
    body = json.dumps(user("x" * 300_000)).encode()
    assert_json_error(post_raw(client, body), 413)


def test_300kb_chunked_body_without_length_gets_413(client):
    body = json.dumps(user("x" * 300_000)).encode()

    def pieces():
        for i in range(0, len(body), 16_384):
            yield body[i : i + 16_384]

    r = client.post("/api/chat", content=pieces(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_json_error(r, 413)


def test_small_chunked_body_is_still_answered(client):
    body = json.dumps(user(EMERGENCY)).encode()
    r = client.post(
        "/api/chat", content=iter([body[:10], body[10:]]), headers={"content-type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["route"] == "emergency"


def test_too_long_message_gets_200_with_a_clear_decline(client, services):
    limit = services.settings.max_message_chars
    text = ("Is kratom safe for the liver? " * (limit // 20))[: limit + 200]
    assert len(text) > limit
    out = chat(client, user(text))
    assert out["route"] == "decline"
    assert "longer than" in out["answer"]


def test_too_long_message_with_an_emergency_still_routes_emergency(client, services):
    limit = services.settings.max_message_chars
    text = ("Is kratom safe for the liver? " * (limit // 20))[:limit] + " " + EMERGENCY
    assert len(text) > limit
    out = chat(client, user(text))
    assert out["route"] == "emergency"
    assert "911" in out["answer"].splitlines()[0]


# --- docs and headers ---------------------------------------------------------------------


def test_openapi_lists_the_chat_endpoints_and_docs_page_loads(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/chat" in paths and "/v1/chat/completions" in paths
    assert client.get("/docs").status_code == 200


def response_schema(spec: dict, path: str, method: str) -> dict:
    """The 200 response's JSON schema of one operation, its `$ref` resolved."""
    schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    return spec["components"]["schemas"][name] if name else schema


def test_openapi_shows_the_real_reply_schemas(client):
    spec = client.get("/openapi.json").json()
    chat = response_schema(spec, "/api/chat", "post")
    assert {"route", "message", "bottom_line", "facts", "citations", "resources", "reasons", "answer"} <= set(
        chat["properties"]
    ), chat
    assert chat["properties"]["route"]["enum"] == [
        "emergency",
        "crisis",
        "dosing_refusal",
        "decline",
        "answer",
    ]
    completion = response_schema(spec, "/v1/chat/completions", "post")
    assert {"choices", "usage", "metadata", "kratom_qa"} <= set(completion["properties"]), completion
    assert {"output", "status", "kratom_qa"} <= set(
        response_schema(spec, "/v1/responses", "post")["properties"]
    )
    assert "data" in response_schema(spec, "/v1/models", "get")["properties"]
    assert {"status", "index_version", "chunks"} <= set(
        response_schema(spec, "/healthz", "get")["properties"]
    )
    errors = spec["paths"]["/api/chat"]["post"]["responses"]["4XX"]["content"]["application/json"]["schema"]
    assert errors["$ref"].endswith("/ErrorReply")


def test_api_chat_is_the_replys_one_serialisation(client, services):
    """`/api/chat` sends what `kratom-qa ask --json` prints: `as_json`, the same keys in the same order."""
    from bot.chat import answer_turn
    from bot.render import CITATION_RE, as_json

    served = chat(client, user(LIVER))
    local = as_json(answer_turn([{"role": "user", "content": LIVER}], services))
    assert served == local
    assert list(served) == list(local)
    assert served["bottom_line"] and served["facts"] and served["citations"]
    marks = {int(n) for n in CITATION_RE.findall(served["answer"])}  # the numbers the text cites
    assert marks == {c["number"] for c in served["citations"]}


@pytest.mark.parametrize(
    "turns",
    [
        [LIVER],
        [DOSING],
        [EMERGENCY],
        [SPANISH_EMERGENCY],
        ["what is the capital of France?"],
        ["I want to end my life"],
        ["is kratom legal?", "and what about the liver?"],
        ["   "],
    ],
    ids=["answer", "dosing", "emergency", "spanish", "decline", "crisis", "follow-up", "empty"],
)
def test_every_kind_of_reply_fits_the_published_schema(services, turns):
    """A reply that did not fit `ChatReply` would be a 500 on /api/chat; the schema forbids extras."""
    from bot.chat import answer_turn
    from bot.render import as_json
    from bot.schemas import ChatReply

    messages = [{"role": "user", "content": t} for t in turns]
    reply = answer_turn(messages, services)
    data = as_json(reply)
    published = ChatReply.model_validate(data)  # raises on a missing, mistyped or extra field
    assert set(data) == set(ChatReply.model_fields)  # every field the schema publishes is sent
    assert published.route == reply.route and published.message == data["message"]


def test_chat_page_sends_csp_frame_ancestors(client):
    r = client.get("/")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors" in csp and "'self'" in csp


# --- servers with their own settings ------------------------------------------------------


def start_server(tmp_path_factory, services, name: str, env: dict) -> RunningServer:
    """A separate server reusing the session's index; its log lives in a fresh tmp dir."""
    return RunningServer(
        tmp_path_factory.mktemp(name), env={"KQA_DATA_DIR": str(services.settings.data_dir), **env}
    )


@pytest.mark.slow
def test_fourth_request_in_a_minute_gets_429_with_retry_after(tmp_path_factory, services):
    srv = start_server(tmp_path_factory, services, "ratelimit", {"KQA_RATE_LIMIT_PER_MINUTE": "3"})
    try:
        with httpx.Client(base_url=srv.url, timeout=120) as c:
            for _ in range(3):
                assert c.post("/api/chat", json=user(LIVER)).status_code == 200
            r = c.post("/api/chat", json=user(LIVER))
            err = assert_json_error(r, 429)
            assert err["type"] == "rate_limit_error"
            assert 1 <= int(r.headers["retry-after"]) <= 61
            assert_json_error(c.post("/v1/chat/completions", json=user(LIVER)), 429)
            assert c.get("/healthz").status_code == 200  # only the chat endpoints are limited
        log = srv.log()
        assert "429 rate limited: client 127.0.0.1 on POST /api/chat" in log, log[-2000:]
        assert LIVER not in log  # who and where, never what
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory, services):
    srv = start_server(tmp_path_factory, services, "cors", {"KQA_ALLOWED_ORIGINS": "https://health.example"})
    yield srv
    srv.stop()


def preflight(url: str, origin: str) -> httpx.Response:
    return httpx.options(
        url + "/api/chat",
        timeout=60,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


@pytest.mark.slow
def test_cors_preflight_from_allowed_origin_is_allowed(cors_server):
    r = preflight(cors_server.url, "https://health.example")
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "https://health.example"
    assert "POST" in r.headers["access-control-allow-methods"]


@pytest.mark.slow
def test_cors_preflight_from_other_origin_is_not_allowed(cors_server):
    r = preflight(cors_server.url, "https://evil.example")
    assert "access-control-allow-origin" not in r.headers
    assert r.status_code < 500


@pytest.mark.slow
def test_cors_post_from_allowed_origin_gets_allow_origin(cors_server):
    r = httpx.post(
        cors_server.url + "/api/chat",
        json=user(EMERGENCY),
        timeout=120,
        headers={"Origin": "https://health.example"},
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://health.example"


@pytest.mark.slow
def test_allowed_origin_may_embed_the_chat(cors_server):
    csp = httpx.get(cors_server.url + "/", timeout=60).headers["content-security-policy"]
    assert "frame-ancestors" in csp and "https://health.example" in csp


def test_wrong_method_and_unknown_api_paths_get_json_errors(server):
    import httpx

    r = httpx.get(server.url + "/api/chat")
    assert (
        r.status_code == 405
        and r.json()["error"]["code"] == "method_not_allowed"
        and r.headers["allow"] == "POST"
    )
    r = httpx.post(server.url + "/v1/nothing-here", json={})
    assert r.status_code == 404 and "error" in r.json()
    r = httpx.delete(server.url + "/v1/models/kratom-qa")  # a path with a parameter: its method is named
    assert r.status_code == 405 and r.headers["allow"] == "GET", (r.status_code, r.text)
    assert httpx.get(server.url + "/v1/models").status_code == 200


# --- bulk evaluation (issue #17) ----------------------------------------------------------


@pytest.mark.slow
def test_serve_eval_lifts_the_rate_limit(tmp_path_factory, services):
    srv = RunningServer(
        tmp_path_factory.mktemp("evalmode"),
        args=["--eval"],
        env={"KQA_DATA_DIR": str(services.settings.data_dir), "KQA_RATE_LIMIT_PER_MINUTE": "2"},
    )
    try:
        with httpx.Client(base_url=srv.url, timeout=120) as c:
            statuses = [c.post("/v1/chat/completions", json=user(EMERGENCY)).status_code for _ in range(5)]
        assert statuses == [200] * 5
        assert "eval mode" in srv.log()
    finally:
        srv.stop()


def test_serve_eval_refuses_a_non_loopback_host(capsys):
    from bot.cli import main

    assert main(["serve", "--eval", "--host", "0.0.0.0"]) == 2
    assert "loopback only" in capsys.readouterr().err


@pytest.mark.slow
def test_embed_js_carries_the_allowlist_and_is_served_as_javascript(cors_server):
    """Issue #15: /embed.js knows which sites may show the button (the browser test runs it)."""
    r = httpx.get(cors_server.url + "/embed.js", timeout=60)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["x-content-type-options"] == "nosniff"  # so the type above must be right
    assert 'var ALLOWED = ["https://health.example"]' in r.text
    assert "Ask about kratom" in r.text and "aria-expanded" in r.text


def test_embed_script_escapes_origins_as_json():
    from bot.embed import embed_script

    js = embed_script(['https://a.example", alert(1), "'])
    assert 'var ALLOWED = ["https://a.example\\", alert(1), \\""]' in js
