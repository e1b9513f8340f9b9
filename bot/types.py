"""The nouns of a chat turn. Steps pass these, never loose dicts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from guardrails.policy import Resource  # noqa: F401  (re-exported: a reply's help lines)
from guardrails.routes import ROUTES, Route  # noqa: F401  (re-exported)

Role = Literal["user", "assistant", "system"]


LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")
TEXT_PART_TYPES = ("text", "input_text", "output_text")  # OpenAI content parts that carry text


def content_text(parts: list[object]) -> str:
    """OpenAI content parts -> the message's text: the text parts' text, joined by spaces;
    images, audio and anything else are left out."""
    texts = [p.get("text") for p in parts if isinstance(p, dict) and p.get("type") in TEXT_PART_TYPES]
    return " ".join(t for t in texts if isinstance(t, str))


def replace_lone_surrogates(value: object) -> object:
    """U+FFFD for every unpaired UTF-16 surrogate in a string or a JSON-like structure.

    JSON can carry `"\\ud800"`; Python keeps it as a lone surrogate (a pair becomes one code
    point), which tokenizers and UTF-8 encoders refuse. Other values come back unchanged.
    """
    if isinstance(value, str):
        return LONE_SURROGATE_RE.sub("\ufffd", value)
    if isinstance(value, list):
        return [replace_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {k: replace_lone_surrogates(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class Conversation:
    messages: tuple[Message, ...]

    @classmethod
    def from_openai(cls, messages: object) -> Conversation:
        """Accept an OpenAI-style list of {role, content}; raise ValueError on a bad shape."""
        if not isinstance(messages, list) or not messages:
            raise ValueError("messages must be a non-empty list of {role, content} objects")
        out = []
        for i, m in enumerate(messages):
            if isinstance(m, Message):
                out.append(m)
                continue
            if not isinstance(m, dict):
                raise ValueError(f"messages[{i}] must be an object with role and content")
            role, content = m.get("role"), m.get("content")
            if role not in ("user", "assistant", "system"):
                raise ValueError(f"messages[{i}].role must be user, assistant or system")
            if isinstance(content, list):  # OpenAI content parts
                content = content_text(content)
            if not isinstance(content, str):
                raise ValueError(f"messages[{i}].content must be a string")
            out.append(Message(role, LONE_SURROGATE_RE.sub("\ufffd", content)))
        if not any(m.role == "user" for m in out):
            raise ValueError("messages must contain at least one user message")
        return cls(tuple(out))

    @property
    def user_turns(self) -> list[str]:
        return [m.content for m in self.messages if m.role == "user"]

    @property
    def last_user(self) -> str:
        return self.user_turns[-1]

    @property
    def last_assistant(self) -> str:
        """The bot's reply just before the last user turn ('' if none)."""
        last_user = max(i for i, m in enumerate(self.messages) if m.role == "user")
        before = [m.content for m in self.messages[:last_user] if m.role == "assistant"]
        return before[-1] if before else ""


@dataclass(frozen=True)
class Chunk:
    """One section of one corpus document, as indexed."""

    chunk_id: str
    doc_id: str
    title: str
    heading: str
    publisher: str
    year: str
    url: str
    text: str
    lang: str = "en"  # "es": one Spanish line of corpus/es/ (bot/corpus_es.py)
    twin: str = ""  # a Spanish chunk's English line: the sentence it says in Spanish, same citation

    def metadata(self) -> dict[str, str]:
        meta = {
            "doc_id": self.doc_id,
            "title": self.title,
            "heading": self.heading,
            "publisher": self.publisher,
            "year": self.year,
            "url": self.url,
        }
        if self.lang != "en":
            meta.update(lang=self.lang, twin=self.twin)
        return meta


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores."""

    chunk: Chunk
    score: float  # fused rank score
    similarity: float  # cosine similarity to the query (dense)

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id


@dataclass(frozen=True)
class Citation:
    number: int
    doc_id: str
    chunk_id: str
    title: str
    publisher: str
    year: str
    url: str

    def as_dict(self) -> dict[str, object]:
        return {
            "number": self.number,
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "title": self.title,
            "publisher": self.publisher,
            "year": self.year,
            "url": self.url,
        }


@dataclass
class Timings:
    steps: dict[str, float] = field(default_factory=dict)  # milliseconds

    @property
    def total_ms(self) -> float:
        return sum(self.steps.values())


@dataclass(frozen=True)
class Fact:
    """One sentence quoted from a source, with the citation number of its document."""

    text: str
    number: int

    def public(self) -> dict[str, object]:
        return {"text": self.text, "number": self.number}


@dataclass
class Reply:
    """A finished turn, as parts; `bot/render.py` is the only place that turns it into text.

    message      uncited policy text that leads (a route's template, the not-covered line)
    bottom_line  the cited sentence that answers the question, if one does
    notes        uncited policy lines after the bottom line ("Why: ...")
    facts        cited sentences under `facts_heading` (inline: one paragraph, else bullets)
    actions      what the reader can do, under `actions_heading`
    banner       the urgent banner's title (emergency and crisis only)
    """

    route: str
    lang: str = "en"
    locale: str = "US"
    message: str = ""
    bottom_line: Fact | None = None
    notes: list[str] = field(default_factory=list)
    facts_heading: str = ""
    facts: list[Fact] = field(default_factory=list)
    inline_facts: bool = False
    actions_heading: str = ""
    actions: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    sources_heading: str = "Sources"
    resources: list[Resource] = field(default_factory=list)
    banner: str = ""
    disclaimer: str = ""
    safety_net: str | None = None  # "emergency" | "crisis": help was put first because the router was unsure
    safety_net_text: str = ""
    reasons: list = field(default_factory=list)  # guardrails.reasons.Reason
    timings: Timings = field(default_factory=Timings)
    passages: list[Passage] = field(default_factory=list)

    @property
    def doc_ids(self) -> list[str]:
        return [c.doc_id for c in self.citations]

    @property
    def cited(self) -> list[Fact]:
        """Every cited sentence, the bottom line first."""
        return ([self.bottom_line] if self.bottom_line else []) + list(self.facts)

    @property
    def text(self) -> str:
        """The reply as one Markdown message (what OpenAI clients and the history carry)."""
        from bot.render import message_text

        return message_text(self)
