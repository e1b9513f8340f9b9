"""THE one path for a chat turn. The UI, the HTTP API, the CLI and the evaluation harness
all call `answer_turn`; none of them re-implements a step.

    messages -> guardrails in -> retrieve -> compose -> guardrails out -> Reply
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager

from bot.compose import Draft
from bot.focus import answer_lines
from bot.intent import classifier_inputs
from bot.query import build_query
from bot.services import Services
from bot.types import Conversation, Reply, Resource, Timings
from guardrails import ModelVote, check_input, check_output, render_reply
from guardrails.output_checks import Verdict
from guardrails.normalize import clean

log = logging.getLogger("kratom_qa.turn")


class InputError(ValueError):
    """The request itself is malformed (not a list of messages); APIs answer 4xx."""


@contextmanager
def timed(timings: Timings, step: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings.steps[step] = round((time.perf_counter() - start) * 1000, 3)


def _resources(services: Services, route: str) -> list[Resource]:
    return [Resource(r.label, r.number, r.tel) for r in services.policy.resources(route, services.settings.locale)]


def _input_problem(conversation: Conversation, services: Services) -> tuple[str, int] | None:
    """(policy input_problems key, limit) when the request is over a limit or empty."""
    s = services.settings
    if len(conversation.messages) > s.max_turns:
        return "too_many_turns", s.max_turns
    if any(len(m.content) > s.max_message_chars for m in conversation.messages if m.role == "user"):
        return "too_long", s.max_message_chars
    if not clean(conversation.last_user):
        return "empty", 0
    return None


def answer_turn(messages: object, services: Services, lang: str | None = None) -> Reply:
    """`lang` ("en" | "es") overrides the language detected from the last user turn."""
    try:
        conversation = Conversation.from_openai(messages)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    settings, policy = services.settings, services.policy
    locale = settings.locale
    timings = Timings()
    limit = settings.max_message_chars
    user_turns = [clean(t)[: 2 * limit] for t in conversation.user_turns][-settings.max_turns:]

    with timed(timings, "query"):
        query = build_query(Conversation.from_openai([{"role": "user", "content": t or " "} for t in user_turns]))[: 2 * limit]
    with timed(timings, "encode"):
        readable = any(ch.isalnum() for ch in (user_turns[-1] if user_turns else ""))  # nothing to read: no vote
        vector, votes = services.encode_turn(query or " ", classifier_inputs(user_turns) if readable else [])
    with timed(timings, "guardrails_in"):
        live = policy.urgent_route_of(conversation.last_assistant)
        decision = check_input(user_turns, policy, ModelVote.merge(votes) if votes else None, live)
    reasons = list(decision.reasons)
    route, lang = decision.route, lang or decision.lang

    problem = _input_problem(conversation, services)
    if problem and route not in ("emergency", "crisis"):  # urgent help is never blocked by a limit
        key, limit = problem
        reasons.insert(0, {"input": key})
        why = policy.input_problems[key].get(lang, policy.input_problems[key]["en"]).format(limit=limit)
        text = policy.render("input_error", lang, locale, why=why)
        return _finish(Reply("decline", text, [], [], reasons, timings, locale=locale, lang=lang), services, decision.safety_net)

    if route != "answer":
        with timed(timings, "render"):
            text = render_reply(policy, route, lang, locale, decision.decline_kind)
        facts = services.safety_facts if route == "dosing_refusal" and lang == "en" else None
        if facts:
            text = f"{text}\n\n**What the sources say**\n\n{facts.text}"
        citations = facts.citations if facts else []
        verdict = check_output(text, route)
        if not verdict.ok:  # a policy template with an amount: never shown
            reasons.append(verdict.reason())
            text, citations = policy.render("fallback", lang, locale), []
        return _finish(Reply(route, text, citations, _resources(services, route), reasons, timings, locale=locale, lang=lang), services, decision.safety_net)

    spanish = lang == "es" and services.spanish.available  # Spanish lines indexed: answer from them
    with timed(timings, "retrieve"):
        passages = (services.spanish if spanish else services.retriever).search(query, vector)
    if not passages:
        reasons.append({"retrieval": "below_relevance_floor"})
        text = policy.render("not_covered", lang, locale)
        return _finish(Reply("answer", text, [], [], reasons, timings, locale=locale, lang=lang), services, decision.safety_net)
    with timed(timings, "compose"):
        request = {"question": query, "vector": vector, "passages": passages, "last": user_turns[-1] if user_turns else query,
                   "lines": answer_lines(str(policy.path), lang)}
        draft = services.spanish.compose(request, policy.render("disclaimer", lang, locale)) if spanish \
            else services.composer.invoke(request)
    with timed(timings, "guardrails_out"):
        verdict = _check_answer(draft)
    if verdict is None or not verdict.ok:
        reasons.append(verdict.reason() if verdict else {"compose": "no_sentence_selected"})
        text = policy.render("fallback", lang, locale)
        return _finish(Reply("answer", text, [], [], reasons, timings, passages, locale=locale, lang=lang), services, decision.safety_net)
    reasons.append({"retrieval": [p.chunk.chunk_id for p in passages]})
    return _finish(Reply("answer", draft.text, draft.citations, [], reasons, timings, passages, locale=locale, lang=lang), services, decision.safety_net)


def _check_answer(draft: Draft) -> Verdict | None:
    """Cited lines: each found in its passage. The whole reply, policy lines included: no amounts,
    no planted instructions, markup or links."""
    if not draft.text:
        return None
    if not draft.cited_text:  # nothing cited: an honest "not covered" made of policy lines only
        return check_output(draft.text, "policy")
    cited = check_output(draft.cited_text, "answer", draft.cited_passages)
    whole = check_output(draft.text, "answer")
    return cited if not cited.ok else whole


def _safety_net(reply: Reply, net: str | None, services: Services) -> Reply:
    """Unsure whether someone is in danger: lead with that help in a line or two, then the reply."""
    if not net or reply.route in ("emergency", "crisis"):
        return reply
    header = services.policy.render(f"safety_net_{net}", reply.lang, reply.locale)
    reply.text = f"{header}\n\n{reply.text}"
    reply.safety_net = net
    reply.resources = _resources(services, net) + [r for r in reply.resources if r not in _resources(services, net)]
    return reply


def _finish(reply: Reply, services: Services, net: str | None = None) -> Reply:
    """Add the safety net, then log the turn without its text (route, rule ids, timings, document ids)."""
    reply = _safety_net(reply, net, services)
    extra = {"route": reply.route, "safety_net": reply.safety_net, "rules": [r.get("rule") for r in reply.reasons if "rule" in r],
             "docs": reply.doc_ids, "ms": round(reply.timings.total_ms, 2),
             "steps": {k: round(v, 1) for k, v in reply.timings.steps.items()}}
    if services.settings.log_conversation_text:
        extra["text"] = reply.text
    log.info("turn %s", extra)
    return reply
