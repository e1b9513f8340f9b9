"""The OpenAI wire format: request checks, token counts, truncation, and reply objects.

`bot/api.py` owns the routes; this module turns a `Reply` into what OpenAI clients expect and
decides which request parameters we honour, accept as no-ops, or refuse with a 400 naming the
`param` (see the README's "Parameters" table):

    honoured     max_tokens / max_completion_tokens / max_output_tokens (sentence-boundary cut),
                 stream, stream_options.include_usage, instructions (responses)
    no effect    temperature, top_p, seed, stop, presence/frequency_penalty, user, metadata, store,
                 tools with tool_choice "auto"/"none", response_format/text.format "text"
    refused      n > 1, tool_choice "required" or a named tool, json_object / json_schema,
                 role "tool", content null, values of the wrong type
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.render import as_json
from bot.types import LONE_SURROGATE_RE, TEXT_PART_TYPES, Reply, content_text
from guardrails.routes import URGENT

MODEL_ID = "kratom-qa"
ROLE_ALIASES = {"developer": "system"}  # the newer name OpenAI uses for `system`


class ParamError(Exception):
    """A request we will not serve; answered as an OpenAI-style 400 naming `param`."""

    def __init__(self, message: str, param: str | None, code: str = "invalid_value", status: int = 400):
        super().__init__(message)
        self.message, self.param, self.code, self.status = message, param, code, status


# --- request checks ----------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_type(body: dict, name: str, ok: Callable[[object], bool], expected: str) -> None:
    if name in body and body[name] is not None and not ok(body[name]):
        raise ParamError(
            f"{name} must be {expected}; got {json.dumps(body[name])[:40]}", name, "invalid_type"
        )


def _check_range(body: dict, name: str, low: float, high: float) -> None:
    _check_type(body, name, _is_number, "a number")
    value = body.get(name)
    if value is not None and not low <= value <= high:
        raise ParamError(f"{name} must be between {low:g} and {high:g}; got {value}", name)


def _max_tokens(body: dict, *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ParamError(
                f"{name} must be a positive integer; got {json.dumps(value)[:40]}", name, "invalid_type"
            )
        return value
    return None


def _check_common(body: dict) -> None:
    """The sampling knobs: type-checked, then ignored (an extractive answer has no sampling)."""
    _check_type(body, "stream", lambda v: isinstance(v, bool), "true or false")
    _check_range(body, "temperature", 0, 2)
    _check_range(body, "top_p", 0, 1)
    _check_range(body, "presence_penalty", -2, 2)
    _check_range(body, "frequency_penalty", -2, 2)
    _check_type(body, "seed", lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer")
    _check_type(
        body,
        "stop",
        lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(s, str) for s in v)),
        "a string or a list of strings",
    )
    _check_type(body, "user", lambda v: isinstance(v, str), "a string")
    _check_type(body, "metadata", lambda v: isinstance(v, dict), "an object")
    _check_type(body, "tools", lambda v: isinstance(v, list), "a list")
    choice = body.get("tool_choice")
    if choice is not None and choice not in ("auto", "none"):
        raise ParamError(
            'this model has no tools and never calls one; tool_choice may only be "auto" or "none"',
            "tool_choice",
            "unsupported_value",
        )


def _check_format(fmt: object, param: str) -> None:
    if fmt is None:
        return
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text":
        return
    if kind in ("json_object", "json_schema"):
        raise ParamError(
            f"{param} {kind!r} is not supported: replies are cited Markdown text", param, "unsupported_value"
        )
    raise ParamError(f'{param} must be an object with type "text"', param, "invalid_type")


def _text_of(content: object, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise ParamError(
                    f"{where}[{j}] must be an object with a type", f"{where}[{j}]", "invalid_type"
                )
            if part["type"] in TEXT_PART_TYPES and not isinstance(part.get("text", ""), str):
                raise ParamError(f"{where}[{j}].text must be a string", f"{where}[{j}].text", "invalid_type")
        return content_text(content)
    if content is None:
        raise ParamError(
            f"{where} is null: this model takes no tool calls, so every message needs its text "
            "(send the assistant's earlier reply as a string)",
            where,
            "invalid_value",
        )
    raise ParamError(f"{where} must be a string or a list of text parts", where, "invalid_type")


def _messages(items: object, param: str) -> list[dict]:
    """OpenAI messages -> [{role, content}] with `developer` read as `system`; `tool` refused."""
    if not isinstance(items, list) or not items:
        raise ParamError(f"{param} must be a non-empty list of messages", param, "invalid_type")
    out = []
    for i, m in enumerate(items):
        where = f"{param}[{i}]"
        if not isinstance(m, dict):
            raise ParamError(f"{where} must be an object with role and content", where, "invalid_type")
        role = m.get("role")
        if isinstance(role, str):
            role = ROLE_ALIASES.get(role, role)
        if role == "tool" or m.get("type") in ("function_call", "function_call_output"):
            raise ParamError(
                f'{where}: role "tool" is not supported: this model has no tools',
                f"{where}.role",
                "unsupported_value",
            )
        if role not in ("user", "assistant", "system"):
            raise ParamError(
                f"{where}.role must be user, assistant, system or developer; got {json.dumps(role)[:40]}",
                f"{where}.role",
                "invalid_value",
            )
        # lone surrogates become U+FFFD here, as in a turn: the tokenizer that counts usage refuses them
        out.append(
            {
                "role": role,
                "content": LONE_SURROGATE_RE.sub("\ufffd", _text_of(m.get("content"), f"{where}.content")),
            }
        )
    if not any(m["role"] == "user" for m in out):
        raise ParamError(f"{param} must contain at least one user message", param, "invalid_value")
    return out


@dataclass(frozen=True)
class Turn:
    """What a checked request asks for: the conversation and the few options we honour."""

    messages: list[dict]
    stream: bool
    max_tokens: int | None
    include_usage: bool
    lang: str | None = (
        None  # `metadata.lang`: "en" or "es" overrides the language read from the last user turn
    )


REPLY_LANGS = ("en", "es")


def _lang(body: dict) -> str | None:
    """The reply language asked for in `metadata.lang` (None: follow the last user turn)."""
    meta = body.get("metadata")
    value = meta.get("lang") if isinstance(meta, dict) else None
    if value is not None and value not in REPLY_LANGS:
        raise ParamError(
            f"metadata.lang must be one of {', '.join(REPLY_LANGS)}; got {json.dumps(value)[:40]}",
            "metadata.lang",
            "invalid_value",
        )
    return value


def _request(body: object, required: str) -> dict[str, Any]:
    """Both endpoints' body: a JSON object with its `required` key, a string `model`, the knobs."""
    if not isinstance(body, dict):
        raise ParamError("the request body must be a JSON object", None, "invalid_type")
    if required not in body:
        raise ParamError(f"{required} is required", required, "missing_required_parameter")
    _check_type(body, "model", lambda v: isinstance(v, str), "a string")
    _check_common(body)
    return body


def parse_chat_request(raw: object) -> Turn:
    body = _request(raw, "messages")
    _check_type(body, "n", lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer")
    if body.get("n") not in (None, 1):
        raise ParamError(
            "n must be 1: the answer is extractive and deterministic, so there is one choice",
            "n",
            "unsupported_value",
        )
    _check_format(body.get("response_format"), "response_format")
    options = body.get("stream_options")
    _check_type(body, "stream_options", lambda v: isinstance(v, dict), "an object")
    include_usage = bool(options.get("include_usage")) if isinstance(options, dict) else False
    return Turn(
        _messages(body["messages"], "messages"),
        bool(body.get("stream")),
        _max_tokens(body, "max_completion_tokens", "max_tokens"),
        include_usage,
        _lang(body),
    )


def parse_responses_request(raw: object) -> Turn:
    body = _request(raw, "input")
    _check_type(body, "instructions", lambda v: isinstance(v, str), "a string")
    text = body.get("text")
    _check_type(body, "text", lambda v: isinstance(v, dict), "an object")
    if isinstance(text, dict):
        _check_format(text.get("format"), "text.format")
    if body.get("previous_response_id") is not None:
        raise ParamError(
            "previous_response_id is not supported: responses are not stored; send the whole "
            "conversation as input",
            "previous_response_id",
            "unsupported_parameter",
        )
    given = body["input"]
    items = [{"role": "user", "content": given}] if isinstance(given, str) else given
    messages = _messages(items, "input")
    if body.get("instructions"):
        messages.insert(0, {"role": "system", "content": body["instructions"]})
    return Turn(
        messages, bool(body.get("stream")), _max_tokens(body, "max_output_tokens"), False, _lang(body)
    )


# --- tokens and truncation ---------------------------------------------------------------


class TokenCounter:
    """Counts with the embedding model's own tokenizer (no special tokens, no length limit)."""

    def __init__(self, tokenizer: Any):
        fast = getattr(tokenizer, "backend_tokenizer", None)
        if fast is not None:
            # A copy: the model's own is set to pad and truncate to its window, and it is shared.
            fast = type(fast).from_str(fast.to_str())
            fast.no_truncation()
            fast.no_padding()
            self._count = lambda text: len(fast.encode(text, add_special_tokens=False).ids)
        else:
            self._count = lambda text: len(tokenizer.encode(text, add_special_tokens=False, verbose=False))

    def __call__(self, text: str) -> int:
        return self._count(text) if text else 0

    def messages(self, messages: list[dict]) -> int:
        return sum(self(m["content"]) for m in messages)


SENTENCE_END = re.compile(r"(?<=[.!?:])(?=\s)|(?=\n)")


def truncate(
    text: str, limit: int, count: Callable[[str], int], keep: Callable[[str], bool]
) -> tuple[str, bool]:
    """At most `limit` tokens, cut at a sentence or line boundary; (text, was_cut).

    Lines for which `keep(line)` holds (an urgent reply's help lines) are kept whole even past
    the limit: a harness's token budget never removes a phone number someone may need.
    """
    if count(text) <= limit:
        return text, False
    pieces = [p for p in SENTENCE_END.split(text) if p]
    lines, line_of, start = text.split("\n"), [], 0
    for p in pieces:  # the line each piece sits on (a piece opening with "\n" starts the next one)
        line_of.append(lines[text.count("\n", 0, start) + (1 if p.startswith("\n") else 0)])
        start += len(p)
    kept = [keep(line) for line in line_of]
    budget = limit - sum(count(p) for p, k in zip(pieces, kept) if k)
    out, full = [], True
    for p, k in zip(pieces, kept):
        if k:
            out.append(p)
            continue
        if full:
            cost = count(p)
            if cost <= budget:
                out.append(p)
                budget -= cost
                continue
            full = False
    return "".join(out).rstrip(), True


def help_line_test(reply: Reply) -> Callable[[str], bool]:
    """For urgent replies: a line is a help line when it names one of the reply's resources."""
    if reply.route not in URGENT and not reply.safety_net:
        return lambda line: False
    numbers = [r.number for r in reply.resources if r.number]
    return lambda line: any(number in line for number in numbers)


def stream_pieces(text: str, size: int = 24) -> list[str]:
    """A finished reply cut into small pieces for streaming, words kept whole.

    The pieces concatenate to exactly `text`: each word keeps the spaces after it.
    """
    pieces, current = [], ""
    for word in re.split(r"(?<= )(?=[^ ])", text):
        current += word
        if len(current) >= size:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


# --- reply objects -----------------------------------------------------------------------


def route_headers(reply: Reply) -> dict[str, str]:
    headers = {"x-kqa-route": reply.route}
    net = reply.safety_net
    if net:
        headers["x-kqa-safety-net"] = str(net)
    return headers


def vendor_object(reply: Reply) -> dict:
    """The full structured result, under our own key (`kratom_qa`) so no client field collides:
    the reply's one serialisation without its text (the message carries that)."""
    return {k: v for k, v in as_json(reply).items() if k != "answer"}


def openai_metadata(reply: Reply) -> dict[str, str]:
    """OpenAI's `metadata` is Dict[str, str]: strings only, lists as compact JSON text."""

    def compact(items: list[dict[str, str]] | list[dict[str, object]]) -> str:
        return json.dumps(items, separators=(",", ":"), ensure_ascii=False)

    out = {
        "route": reply.route,
        "citations": compact([c.as_dict() for c in reply.citations]),
        "resources": compact([r.as_dict() for r in reply.resources]),
    }
    net = reply.safety_net
    if net:
        out["safety_net"] = str(net)
    return out


class Answer:
    """A reply cut to the request's token budget, with its usage."""

    def __init__(self, reply: Reply, turn: Turn, count: TokenCounter):
        self.reply, self.turn = reply, turn
        self.text, self.cut = (
            truncate(reply.text, turn.max_tokens, count, help_line_test(reply))
            if turn.max_tokens
            else (reply.text, False)
        )
        self.prompt_tokens, self.completion_tokens = count.messages(turn.messages), count(self.text)
        self.metadata, self.vendor = openai_metadata(reply), vendor_object(reply)
        self.created = int(time.time())
        self.response_id, self.message_id = f"resp_{uuid.uuid4().hex}", f"msg_{uuid.uuid4().hex}"

    @property
    def finish_reason(self) -> str:
        return "length" if self.cut else "stop"

    def chat_usage(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }

    # /v1/chat/completions

    def completion(self) -> dict:
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": self.created,
            "model": MODEL_ID,
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": self.finish_reason,
                }
            ],
            "usage": self.chat_usage(),
            "metadata": self.metadata,
            "kratom_qa": self.vendor,
        }

    def completion_chunks(self) -> Iterator[str]:
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": MODEL_ID,
            "system_fingerprint": None,
        }
        if self.turn.include_usage:
            base["usage"] = None

        def chunk(delta: dict, finish: str | None = None, **extra) -> str:
            body = {
                **base,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                **extra,
            }
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        yield chunk({"role": "assistant", "content": ""}, metadata=self.metadata, kratom_qa=self.vendor)
        for piece in stream_pieces(self.text):
            yield chunk({"content": piece})
        yield chunk({}, self.finish_reason, metadata=self.metadata, kratom_qa=self.vendor)
        if self.turn.include_usage:
            yield f"data: {json.dumps({**base, 'choices': [], 'usage': self.chat_usage()})}\n\n"
        yield "data: [DONE]\n\n"

    # /v1/responses

    def response(self, status: str = "completed", text: str | None = None) -> dict:
        done = status == "completed"
        message = {
            "type": "message",
            "id": self.message_id,
            "status": "completed" if done else "in_progress",
            "role": "assistant",
            "content": [{"type": "output_text", "text": self.text, "annotations": [], "logprobs": []}],
        }
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": self.created,
            "model": MODEL_ID,
            "status": ("incomplete" if self.cut else "completed") if done else status,
            "incomplete_details": {"reason": "max_output_tokens"} if done and self.cut else None,
            "error": None,
            "instructions": None,
            "max_output_tokens": self.turn.max_tokens,
            "output": [message] if done else [],
            "parallel_tool_calls": False,
            "temperature": None,
            "top_p": None,
            "tool_choice": "auto",
            "tools": [],
            "text": {"format": {"type": "text"}},
            "usage": {
                "input_tokens": self.prompt_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": self.completion_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": self.prompt_tokens + self.completion_tokens,
            }
            if done
            else None,
            "metadata": self.metadata,
            "kratom_qa": self.vendor,
        }

    def response_events(self) -> Iterator[str]:
        seq = iter(range(1_000_000))
        item = {
            "type": "message",
            "id": self.message_id,
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        where = {"item_id": self.message_id, "output_index": 0, "content_index": 0}

        def event(kind: str, **fields) -> str:
            return f"event: {kind}\ndata: {json.dumps({'type': kind, 'sequence_number': next(seq), **fields}, ensure_ascii=False)}\n\n"

        yield event("response.created", response=self.response("in_progress"))
        yield event("response.in_progress", response=self.response("in_progress"))
        yield event("response.output_item.added", output_index=0, item=item)
        yield event("response.content_part.added", **where, part=part)
        for piece in stream_pieces(self.text):
            yield event("response.output_text.delta", **where, delta=piece, logprobs=[])
        yield event("response.output_text.done", **where, text=self.text, logprobs=[])
        yield event("response.content_part.done", **where, part={**part, "text": self.text})
        final = self.response()
        yield event("response.output_item.done", output_index=0, item=final["output"][0])
        yield event("response.incomplete" if self.cut else "response.completed", response=final)
