"""The OpenAI-compatible endpoint, driven by the official `openai` client against the real server."""

from __future__ import annotations

import pytest
from openai import OpenAI

QUESTIONS = [
    pytest.param("Can kratom damage your liver?", "answer", id="liver"),
    pytest.param("how many grams should I take for my back pain?", "dosing_refusal", id="dosing"),
    pytest.param("my friend took kratom and won't wake up", "emergency", id="emergency"),
]


@pytest.fixture(scope="module")
def client(server):
    with OpenAI(base_url=server.url + "/v1", api_key="unused", timeout=120, max_retries=0) as c:
        yield c


def metadata(obj) -> dict:
    """Our top-level `metadata`. ChatCompletion declares a `metadata` field (kept as sent);
    ChatCompletionChunk does not, so there it is an extra field."""
    extra = obj.model_extra or {}
    meta = extra.get("metadata", getattr(obj, "metadata", None))
    assert isinstance(meta, dict), meta
    return meta


def ask(client: OpenAI, question: str, **kw):
    return client.chat.completions.create(model="kratom-qa", messages=[{"role": "user", "content": question}], **kw)


@pytest.mark.parametrize("question,route", QUESTIONS)
def test_completion_reports_the_route_in_metadata(client, question, route):
    resp = ask(client, question)
    assert metadata(resp)["route"] == route
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].message.content.strip()
    assert resp.choices[0].finish_reason == "stop"


def test_answer_metadata_carries_https_citations(client):
    meta = metadata(ask(client, "Can kratom damage your liver?"))
    assert meta["citations"] and all(c["url"].startswith("https://") for c in meta["citations"])


@pytest.mark.parametrize("question,route", QUESTIONS)
def test_streamed_content_equals_the_non_streamed_content(client, question, route):
    whole = ask(client, question).choices[0].message.content
    chunks = list(ask(client, question, stream=True))
    assert len(chunks) > 2
    assert metadata(chunks[0])["route"] == route
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == whole
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_models_list_includes_kratom_qa(client):
    assert "kratom-qa" in [m.id for m in client.models.list()]


def test_bad_request_raises_a_4xx_api_error(client):
    from openai import BadRequestError, UnprocessableEntityError

    with pytest.raises((BadRequestError, UnprocessableEntityError)) as info:
        client.chat.completions.create(model="kratom-qa", messages=[{"role": "robot", "content": "hi"}])
    assert 400 <= info.value.status_code < 500
