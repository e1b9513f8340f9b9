"""The Gradio chat, mounted on the FastAPI app at `/`.

Each reply is computed and checked in full by `answer_turn` before the first character is
streamed, so nobody sees an unchecked byte. Reply text is HTML-escaped; only our own banner
and source links are markup. Per-user state lives in the session, never in globals.
"""

from __future__ import annotations

import html
import logging
import time

import gradio as gr
from fastapi import FastAPI

from bot.chat import answer_turn
from bot.feedback import save_feedback
from bot.services import Services
from bot.types import Reply

log = logging.getLogger(__name__)

EXAMPLES = [
    "Is kratom approved by the FDA?",
    "Can kratom damage your liver?",
    "What does the research say about kratom for chronic pain?",
    "What are kratom withdrawal symptoms and where can I get help?",
    "¿El kratom es legal en Estados Unidos?",
]
CSS = """
.kqa-urgent { background: #b00020; color: #fff; padding: 10px 14px; border-radius: 8px; font-weight: 600; margin-bottom: 8px; }
.kqa-urgent a { color: #fff !important; text-decoration: underline; }
.kqa-disclaimer { font-size: 0.9em; opacity: 0.85; }
"""
HEADER = (
    "### kratom-qa: answers about kratom from vetted health sources\n"
    "<div class='kqa-disclaimer' role='note'>Education, not medical advice. Every answer cites its sources. "
    "This chat never suggests doses. <b>In an emergency call 911</b>, Poison Help 1-800-222-1222, "
    "or call/text 988 in a crisis.</div>"
)
STREAM_PIECE, STREAM_PAUSE = 48, 0.004


def banner(reply: Reply) -> str:
    links = " · ".join(
        f"{html.escape(r.label)}: <a href=\"tel:{html.escape(r.tel)}\">{html.escape(r.number)}</a>"
        for r in reply.resources
    )
    lead = {"emergency": {"en": "Emergency: get help now", "es": "Emergencia: pide ayuda ahora"},
            "crisis": {"en": "You are not alone: help is available now", "es": "No estás solo: hay ayuda ahora"}}
    title = lead[reply.route].get(reply.lang, lead[reply.route]["en"])
    return f"<div class=\"kqa-urgent\" role=\"alert\">🚨 {title} — {links}</div>\n\n"


def render(reply: Reply) -> str:
    """Markdown for the chat window: escaped text, our banner, sources as links."""
    body = reply.text.split("\n\n**Sources**", 1)[0] if reply.citations else reply.text
    out = html.escape(body, quote=False)
    if reply.citations:
        lines = [f"{c.number}. {html.escape(c.publisher)}. [{html.escape(c.title)}]({c.url}) ({c.year})" for c in reply.citations]
        out += "\n\n**Sources**\n" + "\n".join(lines)
        if reply.text.endswith("_"):  # the education-not-advice line
            out += "\n\n_" + html.escape(reply.text.rsplit("_", 2)[-2], quote=False) + "_"
    if reply.route in ("emergency", "crisis"):
        out = banner(reply) + out
    return out


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return str(content or "")


def build_ui(services: Services) -> gr.Blocks:
    feedback_path = services.settings.data_dir / "feedback.jsonl"

    def respond(message: str, history: list[dict], meta: list[dict]):
        messages = [{"role": m["role"], "content": _text(m["content"])} for m in history if m.get("role") in ("user", "assistant")]
        messages.append({"role": "user", "content": _text(message)})
        reply = answer_turn(messages, services)  # fully checked here, before anything streams
        meta = list(meta or []) + [{"route": reply.route, "doc_ids": reply.doc_ids, "user": _text(message)}]
        text = render(reply)
        for end in range(STREAM_PIECE, len(text), STREAM_PIECE):
            yield text[:end], meta
            time.sleep(STREAM_PAUSE)
        yield text, meta

    def on_feedback(data: gr.LikeData, meta: list[dict], share: bool, history: list[dict]):
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        n = sum(1 for m in history[: int(index) + 1] if m.get("role") == "assistant") - 1
        if not meta or n < 0 or n >= len(meta):
            return
        liked = data.liked if isinstance(data.liked, bool) else str(data.liked).lower() in ("like", "true")
        item = meta[n]
        text = {"user": item.get("user", ""), "assistant": _text(history[int(index)].get("content"))} if share else None
        save_feedback(feedback_path, item["route"], item["doc_ids"], "up" if liked else "down", text)

    with gr.Blocks(title="kratom-qa", analytics_enabled=False) as demo:
        gr.Markdown(HEADER)
        meta = gr.State([])
        chatbot = gr.Chatbot(height=520, sanitize_html=True, render_markdown=True, elem_id="kqa-chat",
                             label="kratom-qa", placeholder="Ask a question about kratom's health effects, risks, laws or help to quit.")
        gr.ChatInterface(
            respond, chatbot=chatbot, additional_inputs=[meta], additional_outputs=[meta],
            examples=[[q, []] for q in EXAMPLES], run_examples_on_click=True, cache_examples=False,
            concurrency_limit=services.settings.concurrency, api_name="chat", autofocus=False,
        )
        share = gr.Checkbox(value=False, label="When I rate a reply, share my messages with the team (off: only the rating, route and sources are saved)")
        chatbot.like(on_feedback, [meta, share, chatbot], None)
    return demo


def mount_ui(app: FastAPI, services: Services) -> FastAPI:
    demo = build_ui(services)
    demo.queue(default_concurrency_limit=services.settings.concurrency)
    return gr.mount_gradio_app(app, demo, path="/", css=CSS, footer_links=["api"])
