"""The OpenAI-compatible endpoints, driven by the official `openai` client against the real server.

Issue #17: the route is readable by stock clients (header, string-valued `metadata`, the full
object under `kratom_qa`), the SDK prints no warnings, and parameters are honoured or refused.
"""

from __future__ import annotations

import json
import warnings

import httpx
import pytest
from openai import BadRequestError, NotFoundError, OpenAI

from bot.openai_compat import TokenCounter, stream_pieces, truncate

LIVER = "Can kratom damage your liver?"
EMERGENCY = "my friend took kratom and won't wake up"
QUESTIONS = [
    pytest.param(LIVER, "answer", id="liver"),
    pytest.param("how many grams should I take for my back pain?", "dosing_refusal", id="dosing"),
    pytest.param(EMERGENCY, "emergency", id="emergency"),
]


@pytest.fixture(scope="module")
def client(server):
    with OpenAI(base_url=server.url + "/v1", api_key="unused", timeout=120, max_retries=0) as c:
        yield c


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=120) as c:
        yield c


@pytest.fixture(scope="module")
def count(encoder):
    return TokenCounter(encoder._model.tokenizer)


def metadata(obj) -> dict[str, str]:
    """OpenAI's `metadata`: declared on ChatCompletion and Response, an extra on chunks."""
    meta = getattr(obj, "metadata", None) or (obj.model_extra or {}).get("metadata")
    assert isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values()), meta
    return meta


def vendor(obj) -> dict:
    return (obj.model_extra or {})["kratom_qa"]


def ask(client: OpenAI, question: str, **kw):
    return client.chat.completions.create(
        model="kratom-qa", messages=[{"role": "user", "content": question}], **kw
    )


def user(text: str, **kw) -> dict:
    return {"model": "kratom-qa", "messages": [{"role": "user", "content": text}], **kw}


# --- the route where clients can read it --------------------------------------------------


@pytest.mark.parametrize("question,route", QUESTIONS)
def test_completion_reports_the_route_in_header_metadata_and_vendor_key(client, question, route):
    raw = client.chat.completions.with_raw_response.create(
        model="kratom-qa", messages=[{"role": "user", "content": question}]
    )
    assert raw.headers["x-kqa-route"] == route
    resp = raw.parse()
    assert metadata(resp)["route"] == route
    assert vendor(resp)["route"] == route
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].message.content.strip()
    assert resp.choices[0].finish_reason == "stop"


def test_answer_citations_are_compact_json_text_and_structured_under_kratom_qa(client):
    resp = ask(client, LIVER)
    citations = json.loads(metadata(resp)["citations"])
    assert citations and all(c["url"].startswith("https://") for c in citations)
    assert metadata(resp)["citations"] == json.dumps(citations, separators=(",", ":"), ensure_ascii=False)
    assert vendor(resp)["citations"] == citations
    assert isinstance(vendor(resp)["reasons"], list)


def test_emergency_resources_are_in_metadata_and_vendor_key(client):
    resp = ask(client, EMERGENCY)
    assert "911" in {r["number"] for r in json.loads(metadata(resp)["resources"])}
    assert "911" in {r["number"] for r in vendor(resp)["resources"]}


def test_safety_net_header_only_when_the_reply_has_one(http):
    r = http.post("/v1/chat/completions", json=user(LIVER))
    net = r.json()["kratom_qa"]["safety_net"]
    assert r.headers.get("x-kqa-safety-net") == net  # both absent until router v2 sets Reply.safety_net
    assert ("safety_net" in r.json()["metadata"]) == bool(net)


def test_official_sdk_prints_no_warnings_for_completions_and_responses(client):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for obj in [
            ask(client, LIVER),
            *ask(client, EMERGENCY, stream=True),
            client.responses.create(model="kratom-qa", input=LIVER),
            *client.responses.create(model="kratom-qa", input=EMERGENCY, stream=True),
        ]:
            obj.model_dump()
            obj.model_dump_json()
            obj.to_dict()
        with client.responses.stream(model="kratom-qa", input=LIVER) as stream:
            final = stream.get_final_response()
        final.model_dump_json()
    assert [str(w.message) for w in caught] == []
    assert final.output_text and metadata(final)["route"] == "answer"


@pytest.mark.parametrize("question,route", QUESTIONS)
def test_streamed_content_equals_the_non_streamed_content(client, question, route):
    whole = ask(client, question).choices[0].message.content
    chunks = list(ask(client, question, stream=True))
    assert len(chunks) > 2
    assert metadata(chunks[0])["route"] == route and vendor(chunks[0])["route"] == route
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == whole
    assert chunks[-1].choices[0].finish_reason == "stop"


# --- models and responses -----------------------------------------------------------------


def test_models_list_and_retrieve(client):
    assert [m.id for m in client.models.list()] == ["kratom-qa"]
    assert client.models.retrieve("kratom-qa").id == "kratom-qa"
    with pytest.raises(NotFoundError) as info:
        client.models.retrieve("gpt-4o")
    assert info.value.body["param"] == "model" and info.value.body["code"] == "model_not_found"


def test_any_requested_model_name_is_answered_by_our_own_model_id(client):
    assert ask(client, LIVER).model == "kratom-qa"
    assert (
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": LIVER}]
        ).model
        == "kratom-qa"
    )


@pytest.mark.parametrize("question,route", QUESTIONS)
def test_responses_endpoint_answers_like_chat_completions(client, question, route):
    raw = client.responses.with_raw_response.create(model="kratom-qa", input=question)
    assert raw.headers["x-kqa-route"] == route
    resp = raw.parse()
    assert resp.status == "completed"
    assert metadata(resp)["route"] == route and vendor(resp)["route"] == route
    assert resp.output_text == ask(client, question).choices[0].message.content
    assert resp.usage.input_tokens > 0 and resp.usage.output_tokens > 0


def test_streamed_responses_deltas_add_up_to_the_final_text(client):
    events = list(
        client.responses.create(model="kratom-qa", input=[{"role": "user", "content": LIVER}], stream=True)
    )
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    final = events[-1].response
    assert deltas == final.output_text and metadata(final)["route"] == "answer"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_responses_instructions_and_developer_role_are_read_as_system(client):
    resp = client.responses.create(
        model="kratom-qa",
        instructions="be brief",
        input=[
            {"role": "developer", "content": "answer from sources"},
            {"role": "user", "content": EMERGENCY},
        ],
    )
    assert metadata(resp)["route"] == "emergency"


def test_responses_max_output_tokens_makes_an_incomplete_response(client, count):
    resp = client.responses.create(model="kratom-qa", input=LIVER, max_output_tokens=20)
    assert resp.status == "incomplete" and resp.incomplete_details.reason == "max_output_tokens"
    assert count(resp.output_text) <= 20


def test_responses_json_schema_format_is_refused_naming_the_param(client):
    with pytest.raises(BadRequestError) as info:
        client.responses.create(
            model="kratom-qa",
            input=LIVER,
            text={"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}},
        )
    assert info.value.body["param"] == "text.format"


# --- tokens -------------------------------------------------------------------------------


def test_usage_counts_tokens_with_the_embedding_models_tokenizer(client, count):
    resp = ask(client, LIVER)
    assert resp.usage.prompt_tokens == count(LIVER)
    assert resp.usage.completion_tokens == count(resp.choices[0].message.content)
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens


def test_stream_include_usage_sends_a_final_usage_chunk(client):
    chunks = list(ask(client, LIVER, stream=True, stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])
    assert all(c.usage is None for c in ask(client, LIVER, stream=True))


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_cuts_at_a_sentence_boundary_with_finish_reason_length(client, count, param):
    whole = ask(client, LIVER).choices[0].message.content
    resp = ask(client, LIVER, **{param: 40})
    text = resp.choices[0].message.content
    assert resp.choices[0].finish_reason == "length"
    assert text and count(text) <= 40 and resp.usage.completion_tokens == count(text)
    assert whole.startswith(text) and whole[len(text)].isspace(), text  # a sentence or line boundary


def test_max_tokens_never_cuts_an_urgent_replys_help_lines(client):
    whole = ask(client, EMERGENCY)
    resp = ask(client, EMERGENCY, max_tokens=1)
    numbers = {r["number"] for r in vendor(whole)["resources"]}
    help_lines = [
        line for line in whole.choices[0].message.content.splitlines() if any(n in line for n in numbers)
    ]
    assert help_lines
    for line in help_lines:
        assert line in resp.choices[0].message.content
    assert resp.choices[0].finish_reason == "length"


def test_stream_pieces_keep_words_whole_and_add_up_to_the_text():
    text = "**Bottom line:** Kratom  is not approved [1].\n\n- one\n- two  " + "x" * 60
    pieces = stream_pieces(text)
    assert "".join(pieces) == text and len(pieces) > 2
    assert all(not p.startswith(" ") for p in pieces[1:])  # a word keeps the spaces after it


def test_truncate_keeps_whole_sentences_and_protected_lines(count):
    text = (
        "First sentence here. Second one is longer than the first.\nCall 911 now.\nMore text after. And more."
    )
    cut, was_cut = truncate(text, 5, count, keep=lambda line: "911" in line)
    assert was_cut and "Call 911 now." in cut and "Second" not in cut
    assert truncate(text, 1000, count, keep=lambda line: False) == (text, False)
    cut, _ = truncate(text, count("First sentence here.") + 1, count, keep=lambda line: False)
    assert cut == "First sentence here."


# --- honest parameters --------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra,param",
    [
        pytest.param({"n": 3}, "n", id="n_3"),
        pytest.param(
            {
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
                "tool_choice": "required",
            },
            "tool_choice",
            id="tools_required",
        ),
        pytest.param(
            {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}},
            "response_format",
            id="json_schema",
        ),
        pytest.param({"response_format": {"type": "json_object"}}, "response_format", id="json_object"),
        pytest.param({"temperature": "hot"}, "temperature", id="temperature_hot"),
        pytest.param({"temperature": 7}, "temperature", id="temperature_out_of_range"),
        pytest.param({"max_tokens": "ten"}, "max_tokens", id="max_tokens_a_string"),
        pytest.param({"stream": "yes"}, "stream", id="stream_a_string"),
        pytest.param({"seed": 1.5}, "seed", id="seed_a_float"),
    ],
)
def test_parameters_we_cannot_honour_get_400_naming_the_param(http, extra, param):
    r = http.post("/v1/chat/completions", json=user(LIVER, **extra))
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["param"] == param and isinstance(err["code"], str) and err["type"] == "invalid_request_error"


def test_harmless_parameters_are_accepted_and_change_nothing(client):
    plain = ask(client, LIVER).choices[0].message.content
    tuned = ask(
        client,
        LIVER,
        temperature=1.3,
        seed=7,
        top_p=0.5,
        stop=["\n\n"],
        presence_penalty=1,
        user="eval-17",
        tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        tool_choice="auto",
        n=1,
        response_format={"type": "text"},
    )
    assert tuned.choices[0].message.content == plain


@pytest.mark.parametrize(
    "message,param",
    [
        pytest.param({"role": "tool", "tool_call_id": "x", "content": "42"}, "messages[1].role", id="tool"),
        pytest.param(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "x", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
            "messages[1].content",
            id="content_null",
        ),
        pytest.param({"role": "robot", "content": "hi"}, "messages[1].role", id="role_robot"),
    ],
)
def test_unsupported_messages_get_400_naming_the_message(http, message, param):
    body = {
        "model": "kratom-qa",
        "messages": [{"role": "user", "content": LIVER}, message, {"role": "user", "content": LIVER}],
    }
    r = http.post("/v1/chat/completions", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param
    assert "messages.1.content.str" not in r.text


def test_developer_role_is_read_as_system(client):
    resp = client.chat.completions.create(
        model="kratom-qa",
        messages=[
            {"role": "developer", "content": "You are helpful."},
            {"role": "user", "content": EMERGENCY},
        ],
    )
    assert metadata(resp)["route"] == "emergency"


def test_empty_or_too_long_message_gets_400_from_the_api(http, services):
    limit = services.settings.max_message_chars
    for text in ["   ", "Is kratom safe for the liver? " * (limit // 20)]:
        r = http.post("/v1/chat/completions", json=user(text))
        assert r.status_code == 400, r.text
        assert r.json()["error"]["param"] == "messages"
    urgent = ("Is kratom safe for the liver? " * (limit // 20))[:limit] + " " + EMERGENCY
    r = http.post("/v1/chat/completions", json=user(urgent))
    assert r.status_code == 200 and r.headers["x-kqa-route"] == "emergency"


@pytest.mark.parametrize("path", ["/v1/chat/completions/", "/v1/responses/", "/v1/models/"])
def test_trailing_slash_paths_are_handled_like_the_bare_path(http, path):
    body = user(EMERGENCY) if "chat" in path else {"model": "kratom-qa", "input": EMERGENCY}
    r = http.get(path) if "models" in path else http.post(path, json=body)
    assert r.status_code == 200, r.text
    if "models" not in path:
        assert r.headers["x-kqa-route"] == "emergency"


def test_errors_have_a_string_code_and_a_param(http):
    for r in [
        http.post("/v1/chat/completions", json={"model": "kratom-qa"}),
        http.get("/v1/chat/completions"),
        http.post("/v1/nothing", json={}),
    ]:
        err = r.json()["error"]
        assert isinstance(err["code"], str) and "param" in err, err
    assert (
        http.post("/v1/chat/completions", json={"model": "kratom-qa"}).json()["error"]["param"] == "messages"
    )


def test_sdk_raises_bad_request_with_the_param(client):
    with pytest.raises(BadRequestError) as info:
        client.chat.completions.create(model="kratom-qa", n=2, messages=[{"role": "user", "content": LIVER}])
    assert info.value.body["param"] == "n"


def test_lone_surrogates_are_counted_and_answered_on_both_endpoints(http):
    body = json.dumps(user("is kratom legal?\ud800 \udfff"))  # ASCII escapes: JSON allows a lone surrogate
    for path, payload in [
        ("/v1/chat/completions", body),
        ("/v1/responses", json.dumps({"model": "kratom-qa", "input": "is kratom legal?\ud800"})),
    ]:
        r = http.post(path, content=payload, headers={"content-type": "application/json"})
        assert r.status_code == 200, r.text[:300]
        assert r.headers["x-kqa-route"]
