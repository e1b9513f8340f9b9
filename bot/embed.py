"""`/embed.js`: one script tag gives a host site a floating "Ask about kratom" button and chat panel.

    <script src="https://BOT/embed.js" data-locale="UK" data-lang="es" async></script>

The panel is an iframe of the chat page itself (`/?embed=1&locale=..&lang=..`), so the chat, its
checks and its red emergency banner are exactly the web chat's. Only sites listed in
`KQA_ALLOWED_ORIGINS` get a button: the script compares the page's origin with that list (and the
browser enforces the same list on the iframe through CSP `frame-ancestors`, bot/api.py).
"""

from __future__ import annotations

import json
from typing import Any  # a Starlette or Gradio request: both have query_params

from fastapi import FastAPI
from fastapi.responses import Response

LOCALES = ("US", "UK")
LANGS = ("en", "es")
LABELS = {  # the widget's own words, per data-lang; the chat answers in the language of each question
    "en": {
        "open": "Ask about kratom",
        "open_aria": "Ask about kratom: open the health-information chat",
        "close": "Close the chat",
        "panel": "kratom-qa chat: answers about kratom from vetted health sources",
    },
    "es": {
        "open": "Preguntar sobre el kratom",
        "open_aria": "Preguntar sobre el kratom: abrir el chat de información de salud",
        "close": "Cerrar el chat",
        "panel": "Chat kratom-qa: respuestas sobre el kratom de fuentes de salud verificadas",
    },
}

SCRIPT = r"""/* kratom-qa embed: a floating button that opens the chat in a panel. Served by the chat server. */
(function () {
  "use strict";
  var ALLOWED = __ALLOWED__, LOCALES = __LOCALES__, LANGS = __LANGS__, LABELS = __LABELS__;
  var me = document.currentScript;
  if (!me || window.__kqaEmbed) return;
  window.__kqaEmbed = true;
  var bot = new URL(me.src, location.href);
  if (bot.origin !== location.origin && ALLOWED.indexOf(location.origin) < 0) {
    console.warn("kratom-qa: " + location.origin + " is not in the chat server's KQA_ALLOWED_ORIGINS; no chat button.");
    return;
  }
  var lang = (me.getAttribute("data-lang") || "en").toLowerCase();
  if (LANGS.indexOf(lang) < 0) lang = "en";
  var locale = (me.getAttribute("data-locale") || "").toUpperCase();
  var t = LABELS[lang];
  var src = bot.origin + "/?embed=1&lang=" + lang + (LOCALES.indexOf(locale) >= 0 ? "&locale=" + locale : "");

  function build() {
    var css = document.createElement("style");
    css.textContent =
      "#kqa-embed-button{position:fixed;right:20px;bottom:20px;z-index:2147483000;background:#1d6f5f;color:#fff;" +
      "border:0;border-radius:24px;padding:12px 18px;font:600 16px system-ui,sans-serif;cursor:pointer;" +
      "box-shadow:0 2px 10px rgba(0,0,0,.3)}" +
      "#kqa-embed-button:focus-visible,#kqa-embed-close:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
      "#kqa-embed-panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:min(440px,calc(100vw - 40px));" +
      "height:min(720px,calc(100vh - 110px));background:#fff;border:1px solid #c9d6d3;border-radius:12px;" +
      "box-shadow:0 4px 24px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden}" +
      "#kqa-embed-panel[hidden]{display:none}" +
      "#kqa-embed-bar{display:flex;justify-content:space-between;align-items:center;padding:6px 10px;" +
      "background:#1d6f5f;color:#fff;font:600 14px system-ui,sans-serif}" +
      "#kqa-embed-close{background:transparent;color:#fff;border:0;font-size:22px;line-height:1;cursor:pointer;padding:2px 8px}" +
      "#kqa-embed-frame{flex:1;border:0;width:100%}";
    document.head.appendChild(css);

    var button = document.createElement("button");
    button.id = "kqa-embed-button";
    button.type = "button";
    button.textContent = t.open;
    button.setAttribute("aria-label", t.open_aria);
    button.setAttribute("aria-haspopup", "dialog");
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", "kqa-embed-panel");

    var panel = document.createElement("div");
    panel.id = "kqa-embed-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-label", t.panel);
    var bar = document.createElement("div");
    bar.id = "kqa-embed-bar";
    var title = document.createElement("span");
    title.textContent = t.open;
    var close = document.createElement("button");
    close.id = "kqa-embed-close";
    close.type = "button";
    close.textContent = "\u00d7";
    close.setAttribute("aria-label", t.close);
    bar.appendChild(title);
    bar.appendChild(close);
    panel.appendChild(bar);
    var frame = null;

    function open() {
      if (!frame) {  // loaded on first open, not with the host page
        frame = document.createElement("iframe");
        frame.id = "kqa-embed-frame";
        frame.title = t.panel;
        frame.src = src;
        frame.setAttribute("allow", "clipboard-write");
        panel.appendChild(frame);
      }
      panel.hidden = false;
      button.setAttribute("aria-expanded", "true");
      close.focus();
    }
    function shut() {
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
    button.addEventListener("click", function () { panel.hidden ? open() : shut(); });
    close.addEventListener("click", shut);
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") shut(); });
    window.addEventListener("message", function (e) {  // Escape pressed inside the chat (bot/ui.py EMBED_HEAD)
      if (frame && e.source === frame.contentWindow && e.origin === bot.origin && e.data && e.data.kqa === "close") shut();
    });
    document.body.appendChild(panel);
    document.body.appendChild(button);
  }
  if (document.body) build(); else document.addEventListener("DOMContentLoaded", build);
})();
"""


def embed_script(allowed_origins: list[str]) -> str:
    return (
        SCRIPT.replace("__ALLOWED__", json.dumps(list(allowed_origins)))
        .replace("__LOCALES__", json.dumps(list(LOCALES)))
        .replace("__LANGS__", json.dumps(list(LANGS)))
        .replace("__LABELS__", json.dumps(LABELS, ensure_ascii=False))
    )


def query_locale(request: Any) -> str | None:
    """The `locale` a chat page was opened with (`/?locale=uk`), checked and upper-cased; else None."""
    value = (request.query_params.get("locale") or "").upper() if request is not None else ""
    return value if value in LOCALES else None


def query_lang(request: Any) -> str:
    """The `lang` a chat page was opened with (`/?lang=es`), checked; else English."""
    value = (request.query_params.get("lang") or "").lower() if request is not None else ""
    return value if value in LANGS else "en"


def add_embed_route(app: FastAPI, allowed_origins: list[str]) -> None:
    body = embed_script(allowed_origins)

    @app.get("/embed.js", include_in_schema=False)
    def embed_js() -> Response:
        # short cache: a change to KQA_ALLOWED_ORIGINS reaches host pages within minutes
        return Response(
            body,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )
