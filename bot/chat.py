"""THE one path for a chat turn. The UI, the HTTP API, the CLI and the evaluation harness
all call `answer_turn`; none of them re-implements a step.

    messages -> guardrails in -> retrieve -> compose -> guardrails out -> Reply
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

from bot.compose import Draft
from bot.focus import TOO_MUCH_RE
from bot.intent import classifier_inputs
from bot.query import build_query
from bot.render import body_parts, sources_block
from bot.services import Services
from bot.settings import Settings
from bot.types import Conversation, Reply, Resource, Timings
from guardrails import ModelVote, check_grounding, check_input, check_output, render_reply
from guardrails.normalize import clean
from guardrails.output_checks import Verdict
from guardrails.reasons import ComposeMiss, InputProblem, RetrievalMiss, Retrieved, RuleHit
from guardrails.router import Decision
from guardrails.routes import URGENT

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


def answer_turn(messages: object, services: Services, lang: str | None = None) -> Reply:
    """`lang` ("en" | "es") overrides the language read from the last user turn."""
    conversation, timings = _parse(messages), Timings()
    turns = _user_turns(conversation, services.settings)
    with timed(timings, "query"):
        query = build_query(turns)[: 2 * services.settings.max_message_chars]
    problem = _input_problem(conversation, services.settings)
    urgent_before = services.policy.urgent_route_of(conversation.last_assistant)
    decided: list[Decision] = []

    def decide(vote: ModelVote | None) -> Decision:
        with timed(timings, "guardrails_in"):
            decided.append(check_input(turns, services.policy, vote, urgent_before))
        return decided[-1]

    with timed(timings, "encode"):  # the router decides inside the pass when it can (`decide`)
        vector, vote, last_vector = _encode(query, turns, services, decide, problem is None)
    if decided:  # the encode step's time without the router's decision in it
        timings.steps["encode"] = round(timings.steps["encode"] - timings.steps["guardrails_in"], 3)
    decision = decided[-1] if decided else decide(vote)
    reply = _new_reply(decision, timings, services, lang)
    if problem and decision.route not in URGENT:  # urgent help is never blocked by a limit
        _input_error(reply, *problem, services)
    elif decision.route != "answer":
        with timed(timings, "render"):
            _policy_reply(reply, decision, turns[-1], services)
    else:
        assert vector is not None  # an answer route: the pass computed the retrieval vector
        with timed(timings, "retrieve"):
            reply.passages = _retriever(reply, services).search(query, vector)
        with timed(timings, "compose"):
            draft = _compose(reply, query, vector, turns, services, last_vector)
        with timed(timings, "guardrails_out"):
            _answer(reply, draft, services)
    _safety_net(reply, decision.safety_net, services)
    _log(reply, services)
    return reply


def _parse(messages: object) -> Conversation:
    try:
        return Conversation.from_openai(messages)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _user_turns(conversation: Conversation, settings: Settings) -> list[str]:
    """The user turns the router and the query read: cleaned, capped in length and number."""
    limit = settings.max_message_chars
    return [clean(t)[: 2 * limit] for t in conversation.user_turns][-settings.max_turns :]


def _encode(
    query: str,
    turns: list[str],
    services: Services,
    decide: Callable[[ModelVote | None], Decision],
    answerable: bool = True,
) -> tuple[np.ndarray | None, ModelVote | None, np.ndarray | None]:
    """The turn's one forward pass: the retrieval vector, the router model's vote and, in a
    follow-up, the last turn's vector (the composer weighs what was just asked in).

    When the pass is staged (bot/batching.py) the router decides (`decide`) as soon as its vote is
    known, and a turn that will not be answered from the corpus (an urgent, refused or declined
    route, or a request over a limit) gets no retrieval vectors: vector None."""
    readable = any(ch.isalnum() for ch in turns[-1])  # nothing to read: no vote

    def needed(votes: list[ModelVote] | None) -> bool:
        return decide(ModelVote.merge(votes) if votes else None).route == "answer" and answerable

    follow_up = turns[-1] if turns[-1].strip() != (query or " ").strip() else None
    vector, votes, extra = services.encode_turn(
        query or " ",
        classifier_inputs(turns) if readable else [],
        (follow_up,) if follow_up else (),
        needed,
    )
    return vector, ModelVote.merge(votes) if votes else None, extra[0] if extra else None


def _new_reply(decision: Decision, timings: Timings, services: Services, lang: str | None = None) -> Reply:
    policy, locale, lang = services.policy, services.settings.locale, lang or decision.lang
    banner = policy.text(f"banner_{decision.route}", lang, locale) if decision.route in URGENT else ""
    return Reply(
        decision.route,
        lang,
        locale,
        reasons=list(decision.reasons),
        timings=timings,
        banner=banner,
        sources_heading=policy.text("sources", lang, locale),
    )


def _resources(services: Services, route: str) -> list[Resource]:
    return services.policy.resources(route, services.settings.locale)


def _input_problem(conversation: Conversation, s: Settings) -> tuple[str, int] | None:
    """(policy input_problems key, limit) when the request is over a limit or empty."""
    if len(conversation.messages) > s.max_turns:
        return "too_many_turns", s.max_turns
    if any(len(m.content) > s.max_message_chars for m in conversation.messages if m.role == "user"):
        return "too_long", s.max_message_chars
    if not clean(conversation.last_user):
        return "empty", 0
    return None


def _input_error(reply: Reply, key: str, limit: int, services: Services) -> None:
    policy = services.policy
    why = policy.input_problems[key].get(reply.lang, policy.input_problems[key]["en"]).format(limit=limit)
    reply.route, reply.banner = "decline", ""
    reply.message = policy.render("input_error", reply.lang, reply.locale, why=why)
    reply.reasons.insert(0, InputProblem(key))


def _policy_reply(reply: Reply, decision: Decision, last: str, services: Services) -> None:
    """A route's template; a dosing refusal adds the general safety facts (cited), and when it
    asks how much is too much, what to do in an overdose. Checked too: a policy template with an
    amount is never shown."""
    policy = services.policy
    reply.message = render_reply(policy, reply.route, reply.lang, reply.locale, decision.decline_kind)
    reply.resources = _resources(services, reply.route)
    overdose = policy.lines(reply.lang, reply.locale).get("action_overdose")
    if reply.route == "dosing_refusal" and overdose and TOO_MUCH_RE.search(last):
        reply.actions_heading, reply.actions = (
            policy.text("what_you_can_do", reply.lang, reply.locale),
            [overdose],
        )
    facts = services.safety_facts if reply.route == "dosing_refusal" and reply.lang == "en" else None
    if facts:
        reply.facts_heading, reply.facts, reply.inline_facts = (
            policy.text("sources_say", reply.lang, reply.locale),
            facts.facts,
            True,
        )
        reply.citations = facts.citations
    verdict = check_output(
        "\n\n".join(body_parts(reply)), sources_block(reply.sources_heading, reply.citations)
    )
    if not verdict.ok:
        reply.reasons.append(verdict)
        reply.message, reply.facts, reply.citations = (
            policy.render("fallback", reply.lang, reply.locale),
            [],
            [],
        )


def _compose(
    reply: Reply,
    query: str,
    vector: np.ndarray,
    turns: list[str],
    services: Services,
    last_vector: np.ndarray | None = None,
) -> Draft | None:
    """The composer's draft from the retrieved passages; None when no passage cleared the floor."""
    if not reply.passages:
        return None
    policy = services.policy
    lines = policy.lines(reply.lang, reply.locale) | {
        k: policy.text(k, reply.lang, reply.locale)
        for k in ("key_facts", "what_you_can_do", "not_covered_focus", "not_covered_closest")
    }
    return _composer(reply, services).invoke(
        {
            "question": query,
            "vector": vector,
            "passages": reply.passages,
            "last": turns[-1],
            "last_vector": last_vector,
            "lines": lines,
        }
    )


def _spanish(reply: Reply, services: Services) -> bool:
    """A Spanish reply is built from the Spanish lines (bot/spanish.py) when the index holds them."""
    return reply.lang == "es" and services.spanish.available


def _retriever(reply: Reply, services: Services):
    return services.spanish if _spanish(reply, services) else services.retriever


def _composer(reply: Reply, services: Services):
    return services.spanish if _spanish(reply, services) else services.composer


def _answer(reply: Reply, draft: Draft | None, services: Services) -> None:
    """The checked draft's parts, or the honest not-covered line, or the fallback; never an unchecked draft."""
    policy = services.policy
    if draft is None:
        reply.reasons.append(RetrievalMiss())
        reply.message = policy.render("not_covered", reply.lang, reply.locale)
        return
    verdict = _check_draft(draft)
    if verdict is None or not verdict.ok:
        reply.reasons.append(verdict or ComposeMiss())
        reply.message = policy.render("fallback", reply.lang, reply.locale)
        return
    reply.message, reply.bottom_line, reply.notes = draft.message, draft.bottom_line, draft.notes
    reply.facts_heading, reply.facts = draft.facts_heading, draft.facts
    reply.actions_heading, reply.actions, reply.citations = (
        draft.actions_heading,
        draft.actions,
        draft.citations,
    )
    reply.disclaimer = policy.render("disclaimer", reply.lang, reply.locale)
    reply.passages = [*reply.passages, *draft.looked_up]  # an agency's number the composer looked up
    reply.reasons.append(Retrieved(tuple(p.chunk.chunk_id for p in reply.passages)))


def _check_draft(draft: Draft) -> Verdict | None:
    """Cited lines: each found in its passage. The whole reply, policy lines included: no amounts,
    no planted instructions, markup or links."""
    if not draft:
        return None
    cited = [(f.text, f.number) for f in draft.cited]
    whole = check_output(
        "\n".join(draft.uncited + [t for t, _ in cited]), sources_block("Sources", draft.citations)
    )
    if not cited:  # nothing cited: an honest "not covered" made of policy lines only
        return whole
    grounded = check_grounding(cited, draft.cited_passages)
    return grounded if not grounded.ok else whole


def _safety_net(reply: Reply, net: str | None, services: Services) -> None:
    """Unsure whether someone is in danger: lead with that help in a line or two, then the reply."""
    if not net or reply.route in URGENT:
        return
    reply.safety_net = net
    reply.safety_net_text = services.policy.render(f"safety_net_{net}", reply.lang, reply.locale)
    first = _resources(services, net)
    reply.resources = first + [r for r in reply.resources if r not in first]


def _log(reply: Reply, services: Services) -> None:
    """Log the turn without its text: route, rule ids, timings, document ids."""
    extra = {
        "route": reply.route,
        "safety_net": reply.safety_net,
        "rules": [r.rule for r in reply.reasons if isinstance(r, RuleHit)],
        "docs": reply.doc_ids,
        "ms": round(reply.timings.total_ms, 2),
        "steps": {k: round(v, 1) for k, v in reply.timings.steps.items()},
    }
    if services.settings.log_conversation_text:
        extra["text"] = reply.text
    log.info("turn %s", extra)
