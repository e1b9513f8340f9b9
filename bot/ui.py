"""The Gradio chat, mounted on the FastAPI app at `/`.

Each reply is computed and checked in full by `answer_turn` before the first character is
streamed, so nobody sees an unchecked byte. Reply text is HTML-escaped; only our own banner
and source links are markup. Per-user state lives in the session, never in globals.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import re
import threading
import time

import gradio as gr
from fastapi import FastAPI

from bot.chat import answer_turn
from bot.embed import query_lang, query_locale
from bot.feedback import save_feedback
from bot.middleware import Refused
from bot.render import chat_markdown
from bot.services import Services
from bot.types import replace_lone_surrogates

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
STREAM_PIECE, STREAM_PAUSE = 48, 0.004
# The page's own controls (the policy's `strings` hold the header, greeting and feedback label).
CONTROLS = {
    "en": {"new_chat": "New chat", "textbox": "Type a message..."},
    "es": {"new_chat": "Nueva conversación", "textbox": "Escribe un mensaje..."},
}


def header(services: Services, lang: str = "en") -> str:
    """The page's title and note in `lang`, with the services' locale numbers (policy `strings`)."""
    policy, locale = services.policy, services.settings.locale
    title, note = policy.text("header_title", lang, locale), policy.text("header_note", lang, locale)
    return f"### {title}\n<div class='kqa-disclaimer' role='note'>{note}</div>"


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return str(content or "")


# The user's own bubble shows their text literally: every ASCII punctuation mark is
# backslash-escaped (CommonMark renders `\x` as `x`), so no Markdown link, image or HTML
# tag in it comes alive. Escaping every mark makes the escape reversible.
_MARK = re.compile(r"([!-/:-@\[-`{-~])")
_ESCAPED_MARK = re.compile(r"\\([!-/:-@\[-`{-~])")


def literal_markdown(text: str) -> str:
    return _MARK.sub(r"\\\1", text)


def unliteral_markdown(text: str) -> str:
    return _ESCAPED_MARK.sub(r"\1", text)


def show_user_text_literally(chat: gr.ChatInterface, demo: gr.Blocks) -> None:
    """Make `chat` append user messages as literal text (see `literal_markdown`).

    Not a subclass: Gradio takes a ChatInterface subclass for a custom component and the page
    then fails to load. The method is swapped on the instance (its own turns call it there) and
    in the events it registered."""
    original = chat._append_message_to_history

    def append(message, history, role="user"):
        if message is None:  # an API call on a fresh session: its saved message State is still empty
            message = ""
        if role == "user" and isinstance(message, str):
            message = literal_markdown(message)
        return original(message, history, role)

    chat._append_message_to_history = append  # type: ignore[method-assign]
    for fn in demo.fns.values():
        if fn.fn == original:
            fn.fn = append


def _history_messages(history: list[dict]) -> list[dict]:
    out = []
    for m in history:
        if m.get("role") in ("user", "assistant"):
            text = _text(m["content"])
            out.append(
                {"role": m["role"], "content": unliteral_markdown(text) if m["role"] == "user" else text}
            )
    return out


def locale_views(services: Services):
    """`for_locale(locale)`: the services answering with another locale's numbers and wording (a
    page opened as `/?locale=UK`, e.g. by /embed.js `data-locale`); same models, other settings."""
    views: dict[str, Services] = {services.settings.locale: services}

    def for_locale(locale: str | None) -> Services:
        if locale is None:
            return services
        if locale not in views:
            view = copy.copy(services)  # shares the loaded encoder, index, composer
            view.settings = services.settings.model_copy(update={"locale": locale})
            views[locale] = view
        return views[locale]

    return for_locale


def build_ui(services: Services) -> gr.Blocks:
    settings = services.settings
    for_locale = locale_views(services)
    feedback_path = settings.data_dir / "feedback.jsonl"
    keep = settings.max_message_chars

    def respond(message: str, history: list[dict], meta: list[dict], request: gr.Request):
        messages = _history_messages(history) + [{"role": "user", "content": _text(message)}]
        reply = answer_turn(
            messages, for_locale(query_locale(request))
        )  # fully checked here, before anything streams
        text = chat_markdown(reply)
        # Server-side record of this reply (feedback reads only this), truncated to what a rating needs.
        item = {
            "route": reply.route,
            "doc_ids": reply.doc_ids,
            "index": len(history) + 1,
            "user": _text(message)[:keep],
            "assistant": reply.text[: 2 * keep],
        }
        meta = (list(meta or []) + [item])[-settings.max_turns :]
        for end in range(STREAM_PIECE, len(text), STREAM_PIECE):
            yield text[:end], meta
            time.sleep(STREAM_PAUSE)
        yield text, meta

    def on_feedback(data: gr.LikeData, meta: list[dict], share: bool):
        """Built from the session's own record of the reply; nothing the client sends is saved."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        item = next((m for m in reversed(meta or []) if m.get("index") == index), None)
        if item is None or item.get("rated"):
            return
        liked = data.liked if isinstance(data.liked, bool) else str(data.liked).lower() in ("like", "true")
        item["rated"] = True  # one rating per reply
        text = {"user": item["user"], "assistant": item["assistant"]} if share else None
        save_feedback(
            feedback_path,
            item["route"],
            item["doc_ids"],
            "up" if liked else "down",
            text,
            max_bytes=settings.feedback_max_bytes,
        )

    strings = functools.partial(services.policy.text, lang="en", locale=settings.locale)
    with gr.Blocks(title=strings("page_title"), analytics_enabled=False) as demo:
        title = gr.Markdown(header(services))
        new_chat = gr.Button(
            CONTROLS["en"]["new_chat"], size="sm", variant="secondary", elem_id="kqa-new-chat", scale=0
        )
        meta = gr.State([], time_to_live=settings.session_idle_minutes * 60)
        chatbot = gr.Chatbot(
            height=520,
            sanitize_html=True,
            render_markdown=True,
            elem_id="kqa-chat",
            label="kratom-qa",
            placeholder=strings("placeholder"),
        )
        chat = gr.ChatInterface(
            respond,
            chatbot=chatbot,
            additional_inputs=[meta],
            additional_outputs=[meta],
            # `None` for the State: an example that carries a State value is drawn by gr.Examples,
            # which has no renderer for State (404s, an empty panel); without one the questions
            # show as clickable cards inside the empty chat, and a click asks the question.
            examples=[[q, None] for q in EXAMPLES],
            run_examples_on_click=True,
            cache_examples=False,
            concurrency_limit=settings.concurrency,
            api_name="chat",
            autofocus=False,
        )
        # New chat: the conversation, the session's reply records and the typed text all start over.
        new_chat.click(
            lambda: ([], [], [], [], ""),
            None,
            [chatbot, chat.chatbot_state, chat.chatbot_value, meta, chat.textbox],
            queue=False,
            api_visibility="private",
        )
        share = gr.Checkbox(value=False, label=strings("feedback_share"))
        chatbot.like(on_feedback, [meta, share], None)

        def page_words(request: gr.Request):
            """A page opened as `/?locale=UK&lang=es` (the /embed.js panel): its fixed text, greeting
            and emergency numbers follow the page's locale and language, not the server's."""
            view, lang = for_locale(query_locale(request)), query_lang(request)
            words = functools.partial(view.policy.text, lang=lang, locale=view.settings.locale)
            return (
                header(view, lang),
                gr.Chatbot(placeholder=words("placeholder")),
                gr.Button(CONTROLS[lang]["new_chat"]),
                gr.Textbox(placeholder=CONTROLS[lang]["textbox"]),
                gr.Checkbox(label=words("feedback_share")),
            )

        demo.load(
            page_words,
            None,
            [title, chatbot, new_chat, chat.textbox, share],
            queue=False,
            api_visibility="private",
        )
    show_user_text_literally(chat, demo)
    return demo


# ---- the gate: what Gradio may be asked, checked before Gradio sees it -------------------------

REFUSED_PATHS = (
    "/gradio_api/upload",
    "/gradio_api/proxy=",
    "/gradio_api/file=http",
    "/gradio_api/run-history",
)
EVENT_PATH = re.compile(r"^/gradio_api/(?:queue/join|(run|api|call)/([\w-]+))/?$")
ROLES = ("user", "assistant", "system")


def file_object(value: object) -> bool:
    """Anything Gradio would treat as a file: a dict with a path or url, FileData meta, a file part."""
    if isinstance(value, dict):
        if "path" in value or "url" in value or value.get("type") == "file":
            return True
        if isinstance(value.get("meta"), dict) and value["meta"].get("_type") == "gradio.FileData":
            return True
        return any(file_object(v) for v in value.values())
    if isinstance(value, list):
        return any(file_object(v) for v in value)
    return False


def history_problem(value: object) -> str | None:
    """A chat history as Gradio's Chatbot takes it, text only: [{role, content: [{type: text, text}]}]."""
    if value is None:
        return None
    if not isinstance(value, list):
        return "the chat history must be a list of messages"
    for i, m in enumerate(value):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            return f"history[{i}] must be an object with role user, assistant or system"
        content = m.get("content")
        if not isinstance(content, list) or not all(
            isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
            for p in content
        ):
            return f"history[{i}].content must be a list of text parts"
    return None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def gradio_gate(demo: gr.Blocks):
    """The middleware's check for every request outside the API (`bot/middleware.py` `GradioGate`).

    Refuses file uploads and URL fetches (the chat never needs files), any JSON carrying a file
    object, malformed event payloads (so Gradio neither errors nor logs the values), and replaces
    lone UTF-16 surrogates, which the tokenizer and Gradio's JSON encoder cannot take.
    """
    events_by_name = {fn.api_name: fn for fn in demo.fns.values() if fn.api_name}
    event_data_types = {id(fn): event_data_type(fn.fn) for fn in demo.fns.values() if fn.fn is not None}

    def check(method: str, path: str, body: bytes) -> bytes:
        if path.startswith(REFUSED_PATHS):
            raise Refused(404, "the chat takes no files")
        if method != "POST" or not body.strip():
            return body
        try:
            payload = json.loads(body, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, "request body is not valid JSON") from None
        if not isinstance(payload, dict):  # every Gradio POST takes an object; `Infinity` made /cancel 500
            raise Refused(422, "request body must be a JSON object")
        if file_object(payload):
            raise Refused(400, "the chat takes no files")
        match = EVENT_PATH.match(path)
        if match:
            problem = event_problem(payload, match.group(1), match.group(2))
            if problem:
                raise Refused(422, problem)
        clean = replace_lone_surrogates(payload)
        return body if clean == payload else json.dumps(clean).encode()

    def event_problem(payload: object, kind: str | None, name: str | None) -> str | None:
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            return "body must be an object with a data list"
        index = payload.get("fn_index")  # as Gradio resolves it: the number first, else the path's name
        if index is not None:
            fn = demo.fns.get(index) if isinstance(index, int) and not isinstance(index, bool) else None
        else:
            fn = events_by_name.get(name) if name else None
        if fn is None or fn.fn is None:  # no event, or a front-end-only one (Gradio would answer 500)
            return "no such event"
        hint = event_data_types.get(id(fn))
        if hint is not None:  # Gradio builds this from the body's event_data and fails with a 500 if it can't
            try:
                hint(None, payload.get("event_data"))
            except Exception:  # noqa: BLE001 - any failure is a malformed event
                return "this event needs its event_data"
        data, inputs = payload["data"], fn.inputs
        public = [b for b in inputs if not getattr(b, "skip_api", False)]
        if len(data) != len(inputs) and not (kind == "call" and len(data) == len(public)):
            return f"this event takes {len(inputs)} values, got {len(data)}"
        for block, value in zip(inputs, data):
            if isinstance(block, gr.Chatbot):
                problem = history_problem(value)
            elif isinstance(block, gr.Dataset):  # the examples: Gradio indexes its samples with the value
                count = len(block.samples or [])
                ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < count
                problem = None if ok else f"an example is chosen by its index, 0 to {count - 1}"
            elif isinstance(block, gr.Textbox):
                problem = None if value is None or isinstance(value, str) else "a text input must be a string"
            else:
                problem = None
            if problem:
                return problem
        return None

    return check


def event_data_type(fn) -> type | None:
    """The gr.EventData subclass a handler asks for (Gradio fills it from the request), if any."""
    import inspect
    import typing

    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - unresolvable annotations: Gradio would not inject either
        return None
    for name in inspect.signature(fn).parameters:
        hint = hints.get(name)
        if inspect.isclass(hint) and issubclass(hint, gr.EventData):
            return hint
    return None


def expire_idle_sessions(holder, idle_seconds: float) -> int:
    """Forget the sessions idle for longer than `idle_seconds` (their chat and records); how many."""
    cutoff = time.time() - idle_seconds
    with holder.lock:
        idle = [sid for sid, used in list(holder.time_last_used.items()) if used.timestamp() < cutoff]
        for sid in idle:
            holder.session_data.pop(sid, None)
            holder.time_last_used.pop(sid, None)
    return len(idle)


def _expire_sessions_forever(demo: gr.Blocks, idle_seconds: float, every: float = 60.0) -> None:
    def sweep() -> None:
        while True:
            time.sleep(every)
            if expired := expire_idle_sessions(demo.state_holder, idle_seconds):
                log.info("expired %d idle chat session(s)", expired)

    threading.Thread(target=sweep, name="expire-idle-sessions", daemon=True).start()


# The chat in a host site's panel (/embed.js opens `/?embed=1`): a compact page, and an urgent
# reply's red banner sticks to the top of the chat while that reply is on screen, so a long
# reply scrolled to its end still shows where to get help.
# Escape inside the panel's chat asks the host page's /embed.js to close the panel (a key press
# inside an iframe never reaches the host page).
EMBED_HEAD = (
    "<script>if (new URLSearchParams(location.search).has('embed') && window.parent !== window) {"
    " document.documentElement.classList.add('kqa-embed');"
    " document.addEventListener('keydown', function (e) {"
    " if (e.key === 'Escape') window.parent.postMessage({kqa: 'close'}, '*'); }, true); }</script>"
)
EMBED_CSS = """
.kqa-urgent { position: sticky; top: 0; z-index: 5; }
html.kqa-embed footer { display: none !important; }
html.kqa-embed .gradio-container { padding-top: 4px !important; }
"""


def mount_ui(app: FastAPI, demo: gr.Blocks, services: Services) -> FastAPI:
    settings = services.settings
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_max_size)
    demo.state_session_capacity = settings.queue_max_size * 10  # oldest sessions go first beyond this
    app = gr.mount_gradio_app(
        app,
        demo,
        path="/",
        css=CSS + EMBED_CSS,
        head=EMBED_HEAD,
        footer_links=["api"],
        show_error=False,
        run_history=False,
        blocked_paths=[str(settings.data_dir.resolve())],
    )
    # mount_gradio_app leaves has_launched False, and Gradio skips its file allow-list checks
    # until an app has launched: without this, a message naming a path makes Gradio serve that file.
    demo.has_launched = True
    _expire_sessions_forever(demo, settings.session_idle_minutes * 60)
    return app
