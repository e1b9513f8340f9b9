"""The HTTP API's request and response models: what `/openapi.json` and `/docs` show.

`/api/chat` answers with `ChatReply`, which is `bot/render.py` `as_json` field for field
(`extra="forbid"`: a field added there and not here is a test failure, not a silent drop);
facts and citations are `bot/types.py`'s own dataclasses.
The OpenAI replies are built by `bot/openai_compat.py`; their models here document them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.types import Citation, Fact
from guardrails.routes import Route


class ContentPart(BaseModel):
    """One OpenAI content part; only text parts are read, and their text must be a string."""

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
    lang: Literal["en", "es"] | None = Field(
        None, description="Reply language; default: the last user turn's"
    )


# --- /api/chat: a reply's parts ----------------------------------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResourceOut(Out):
    label: str
    number: str = Field(description="The number as shown")
    tel: str = Field(description="What a tel: link dials")


class PassageOut(Out):
    chunk_id: str
    similarity: float


class ReplyParts(Out):
    """A reply's parts: the OpenAI replies carry these under `kratom_qa`."""

    route: Route
    safety_net: Literal["emergency", "crisis"] | None = Field(
        description="Help put first because the router was unsure"
    )
    lang: str
    locale: str
    safety_net_text: str | None
    message: str = Field(description="Uncited policy text that leads")
    bottom_line: Fact | None = Field(description="The cited sentence that answers the question")
    notes: list[str]
    facts: list[Fact]
    actions: list[str]
    citations: list[Citation]
    resources: list[ResourceOut] = Field(description="Help lines for the reader's locale")
    banner: str | None
    disclaimer: str | None
    reasons: list[dict[str, Any]] = Field(description="Rule ids, scores and chunk ids; never user text")
    passages: list[PassageOut]


class ChatReply(ReplyParts):
    """`/api/chat`'s reply (and `kratom-qa ask --json`'s): the parts and the rendered Markdown."""

    answer: str = Field(description="The whole reply as one Markdown message")


# --- the OpenAI-compatible endpoints -----------------------------------------------------------


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str
    refusal: None


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    logprobs: None
    finish_reason: Literal["stop", "length"]


class ChatCompletion(BaseModel):
    """`POST /v1/chat/completions` (with `stream: true`, `chat.completion.chunk` events instead)."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    system_fingerprint: None
    choices: list[Choice]
    usage: Usage
    metadata: dict[str, str] = Field(description="route, citations and resources as strings")
    kratom_qa: ReplyParts


class OutputText(BaseModel):
    type: Literal["output_text"]
    text: str
    annotations: list[Any]
    logprobs: list[Any]


class OutputMessage(BaseModel):
    type: Literal["message"]
    id: str
    status: Literal["completed", "in_progress"]
    role: Literal["assistant"]
    content: list[OutputText]


class ResponseUsage(BaseModel):
    input_tokens: int
    input_tokens_details: dict[str, int]
    output_tokens: int
    output_tokens_details: dict[str, int]
    total_tokens: int


class ResponseObject(BaseModel):
    """`POST /v1/responses` (with `stream: true`, the Responses API's events instead)."""

    id: str
    object: Literal["response"]
    created_at: int
    model: str
    status: Literal["completed", "incomplete", "in_progress"]
    incomplete_details: dict[str, str] | None
    error: None
    instructions: None
    max_output_tokens: int | None
    output: list[OutputMessage]
    parallel_tool_calls: bool
    temperature: None
    top_p: None
    tool_choice: str
    tools: list[Any]
    text: dict[str, Any]
    usage: ResponseUsage | None
    metadata: dict[str, str]
    kratom_qa: ReplyParts


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "kratom-qa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Health(BaseModel):
    status: Literal["ok", "no_index"]
    index_version: int = Field(description="The index version the retriever has loaded")
    documents: int
    chunks: int
    version: str = Field(description="kratom-qa's version")
    index_pending_version: int | None = Field(
        None, description="A newer index another process switched to; loaded within 30 s"
    )


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None
    code: str


class ErrorReply(BaseModel):
    """Every 4xx and 500: OpenAI's error shape."""

    error: ErrorBody
