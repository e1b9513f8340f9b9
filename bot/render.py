"""The one renderer: a `Reply`'s parts -> the chat's Markdown (Gradio), the terminal's text
(`kratom-qa ask`), the OpenAI message text, and the JSON every machine reader gets.

Nobody takes rendered text apart again: code that needs the facts, the sources or the
disclaimer reads them from the `Reply`'s fields.
"""

from __future__ import annotations

import html
import re

from bot.types import Citation, Fact, Reply
from guardrails.model import ModelVote
from guardrails.reasons import RuleHit
from guardrails.routes import URGENT

CITATION_RE = re.compile(r"\[(\d+)\]")  # what `cited` writes after a sentence: its source's number


def cited(fact: Fact) -> str:
    return f"{fact.text} [{fact.number}]"


def _bullets(heading: str, lines: list[str]) -> str:
    return f"**{heading}**\n" + "\n".join(f"- {line}" for line in lines)


def body_parts(reply: Reply) -> list[str]:
    """The reply's Markdown paragraphs before its sources: safety net, message, bottom line,
    notes, facts, actions."""
    parts = [p for p in (reply.safety_net_text, reply.message) if p]
    if reply.bottom_line:
        parts.append(cited(reply.bottom_line))
    parts += [n for n in reply.notes if n]
    if reply.facts and reply.inline_facts:
        parts.append(f"**{reply.facts_heading}**\n\n" + " ".join(cited(f) for f in reply.facts))
    elif reply.facts:
        parts.append(_bullets(reply.facts_heading, [cited(f) for f in reply.facts]))
    if reply.actions:
        parts.append(_bullets(reply.actions_heading, reply.actions))
    return parts


def source_line(c: Citation) -> str:
    return f'{c.number}. {c.publisher}. "{c.title}" ({c.year}). {c.url}'


def sources_block(heading: str, citations: list[Citation]) -> str:
    return "\n".join([f"**{heading}**", *(source_line(c) for c in citations)])


def message_text(reply: Reply) -> str:
    """The whole reply as one Markdown message: the OpenAI message text and the chat history."""
    parts = body_parts(reply)
    if reply.citations:
        parts.append(sources_block(reply.sources_heading, reply.citations))
    if reply.disclaimer:
        parts.append(f"_{reply.disclaimer}_")
    return "\n\n".join(parts)


def banner_html(reply: Reply) -> str:
    links = " · ".join(
        f'{html.escape(r.label)}: <a href="tel:{html.escape(r.tel)}">{html.escape(r.number)}</a>'
        for r in reply.resources
    )
    return f'<div class="kqa-urgent" role="alert">🚨 {html.escape(reply.banner)} — {links}</div>\n\n'


def chat_markdown(reply: Reply) -> str:
    """Markdown for the chat window: escaped text, our banner, sources as links."""
    out = html.escape("\n\n".join(body_parts(reply)), quote=False)
    if reply.citations:
        lines = [
            f"{c.number}. {html.escape(c.publisher)}. [{html.escape(c.title)}]({c.url}) ({c.year})"
            for c in reply.citations
        ]
        out += f"\n\n**{html.escape(reply.sources_heading)}**\n" + "\n".join(lines)
    if reply.disclaimer:
        out += "\n\n_" + html.escape(reply.disclaimer, quote=False) + "_"
    if reply.route in URGENT and reply.banner:
        out = banner_html(reply) + out
    return out


def terminal(reply: Reply) -> str:
    """`kratom-qa ask`: the route and why, the reply, then the passages read, numbered as the
    answer cites them ([-] for a passage no sentence came from)."""
    rules = [r.rule for r in reply.reasons if isinstance(r, RuleHit)] or ["no rule fired"]
    vote = next((r for r in reply.reasons if isinstance(r, ModelVote)), None)
    probs = (
        "   model: " + " ".join(f"{k}={v:.2f}" for k, v in vote.probs.items() if v >= 0.01) if vote else ""
    )
    net = f"   safety net: {reply.safety_net}" if reply.safety_net else ""
    out = [f"route: {reply.route}{net}   rules: {', '.join(rules)}{probs}", "", message_text(reply)]
    if reply.passages:
        numbers = {c.doc_id: c.number for c in reply.citations}
        out.append("\nPassages retrieved:")
        for p in reply.passages:
            c = p.chunk
            n = numbers.get(c.doc_id)
            out.append(f"[{n if n else '-'}] {c.title} — {c.heading}")
            out.append(f"    {c.publisher}, {c.year}. {c.url}  (similarity {p.similarity:.2f})")
    return "\n".join(out)


def as_json(reply: Reply) -> dict:
    """THE serialisation of a reply: `/api/chat`, the OpenAI replies' `kratom_qa` object and
    `kratom-qa ask --json`. Rule ids, scores and document ids; never the user's text.
    `bot/schemas.py` `ChatReply` is its schema, field for field and in this order."""
    return {
        "route": reply.route,
        "safety_net": reply.safety_net,
        "lang": reply.lang,
        "locale": reply.locale,
        "safety_net_text": reply.safety_net_text or None,
        "message": reply.message,
        "bottom_line": reply.bottom_line.public() if reply.bottom_line else None,
        "notes": list(reply.notes),
        "facts": [f.public() for f in reply.facts],
        "actions": list(reply.actions),
        "citations": [c.as_dict() for c in reply.citations],
        "resources": [r.as_dict() for r in reply.resources],
        "banner": reply.banner or None,
        "disclaimer": reply.disclaimer or None,
        "reasons": [r.public() for r in reply.reasons],
        "passages": [
            {"chunk_id": p.chunk.chunk_id, "similarity": round(p.similarity, 3)} for p in reply.passages
        ],
        "answer": message_text(reply),
    }  # no timings: the same question gets the same object from any process (tests/test_scale_out.py)
