"""Render non-answer replies from the policy's templates, in the user's language and the
configured locale's numbers."""

from __future__ import annotations

from guardrails.policy import Policy


def render_reply(policy: Policy, route: str, lang: str, locale: str, decline_kind: str | None = None) -> str:
    text = policy.render(route, lang, locale)
    if route == "decline" and decline_kind in policy.decline_pointers:
        pointer = policy.decline_pointers[decline_kind]
        text += "\n\n" + pointer.get(lang, pointer["en"]).format(**policy.numbers(locale, lang))
    return text
