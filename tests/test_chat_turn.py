"""One chat turn, one function: the product's core promises, end to end on real parts."""

import pytest

from bot.chat import InputError, answer_turn
from bot.compose import split_sentences
from bot.eval.dataset import read_jsonl
from bot.query import build_query
from bot.retrieval import Retriever
from bot.settings import REPO_ROOT
from bot.types import Conversation
from guardrails.amounts import find_amounts
from guardrails.reasons import RetrievalMiss


def ask(services, *turns):
    messages = []
    reply = None
    for t in turns:
        messages.append({"role": "user", "content": t})
        reply = answer_turn(messages, services)
        messages.append({"role": "assistant", "content": reply.text})
    return reply


def test_liver_question_gets_cited_sentences_and_sources(services):
    reply = ask(services, "Can kratom damage your liver?")
    assert reply.route == "answer"
    assert "[1]" in reply.text and "**Sources**" in reply.text and "not medical advice" in reply.text
    assert reply.citations and all(
        c.url.startswith("https://") and c.publisher and c.year for c in reply.citations
    )
    assert any("liver" in c.title.lower() or c.doc_id.startswith("livertox") for c in reply.citations)


def test_fda_question_is_answered_from_an_fda_document(services):
    reply = ask(services, "Is kratom approved by the FDA?")
    assert reply.citations[0].publisher == "U.S. Food and Drug Administration"


def test_grams_for_back_pain_is_refused(services):
    reply = ask(services, "how many grams should I take for my back pain?")
    assert reply.route == "dosing_refusal" and not find_amounts(reply.text)


def test_friend_wont_wake_up_puts_911_first(services):
    reply = ask(services, "my friend took kratom and won't wake up")
    assert reply.route == "emergency" and reply.text.lstrip("* ").startswith("Call 911")


def _questions():
    path = REPO_ROOT / "tests" / "data" / "retrieval_questions.jsonl"
    return [row for _, row in read_jsonl(path)]


def _policy_lines(services) -> list[str]:
    policy, locale = services.policy, services.settings.locale
    texts = list(policy.lines("en", locale).values()) + [policy.text(k, "en", locale) for k in policy.strings]
    return [t.split("{")[0].strip(" :") for t in texts if t.split("{")[0].strip()]


def test_every_answer_sentence_is_found_in_a_cited_passage(services):
    """The composer's promise, over every retrieval question: nothing appears that is not in a cited passage."""
    checked = 0
    for item in _questions():
        reply = ask(services, *item["turns"])
        if reply.route != "answer" or not reply.citations:
            continue
        by_number = {c.number: c.doc_id for c in reply.citations}
        texts = {}
        for p in reply.passages:
            texts.setdefault(p.doc_id, []).append(" ".join(split_sentences(p.chunk.text)).lower())
        for fact in reply.cited:
            assert any(fact.text.lower() in t for t in texts[by_number[fact.number]]), (item["id"], fact.text)
            checked += 1
        uncited = [reply.message, *reply.notes, reply.facts_heading, reply.actions_heading, *reply.actions]
        for line in uncited:  # what is left must be policy text (headings, house lines), never source text
            line = line.strip(" -*:")
            assert not line or any(line in text or text in line for text in _policy_lines(services)), (
                f"uncited text in {item['id']}: {line}"
            )
    assert checked > 100


def test_a_turn_encodes_the_query_exactly_once(services):
    services.warm()
    ask(services, "does kratom interact with antidepressants?")  # warm caches
    before = services.encoder.texts_encoded
    ask(services, "is kratom addictive?")
    assert services.encoder.texts_encoded - before == 1


def test_every_kind_of_openai_text_part_is_read_and_other_parts_are_not():
    """The Responses API's `input_text` and `output_text` parts carry text as `text` parts do."""
    conv = Conversation.from_openai(
        [
            {"role": "user", "content": [{"type": "input_text", "text": "is kratom legal?"}]},
            {"role": "assistant", "content": [{"type": "output_text", "text": "It depends [1]."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "and in"},
                    {"type": "image_url", "image_url": {"url": "https://x.invalid/a.png"}},
                    {"type": "input_text", "text": "Alabama?"},
                ],
            },
        ]
    )
    assert conv.user_turns == ["is kratom legal?", "and in Alabama?"]
    assert conv.last_assistant == "It depends [1]."


def test_follow_up_questions_use_the_conversation(services):
    conv = Conversation.from_openai(
        [
            {"role": "user", "content": "is kratom legal in the US?"},
            {"role": "assistant", "content": "..."},
            {"role": "user", "content": "and what about the liver?"},
        ]
    )
    query = build_query(conv.user_turns)
    assert "kratom" in query and "liver" in query
    reply = ask(services, "is kratom legal in the US?", "and what about the liver?")
    assert reply.route == "answer" and any("liver" in f.text.lower() for f in reply.cited)


def test_nothing_relevant_means_not_covered_instead_of_weak_matches(services, monkeypatch):
    strict = Retriever(services.index, services.encoder, top_k=5, floor=0.99)
    monkeypatch.setattr(services, "retriever", strict)
    reply = ask(services, "what does kratom do to the pancreas of cats?")
    monkeypatch.undo()
    assert reply.route == "answer" and not reply.citations
    assert "don't cover" in reply.text and "Poison Help" in reply.text
    assert RetrievalMiss() in reply.reasons


def test_malformed_messages_raise_input_error(services):
    for bad in (
        None,
        [],
        "hello",
        [{"role": "robot", "content": "x"}],
        [{"role": "user", "content": 5}],
        [{"role": "assistant", "content": "only me"}],
    ):
        with pytest.raises(InputError):
            answer_turn(bad, services)


def test_every_step_is_timed(services):
    reply = ask(services, "what is kratom?")
    assert {"encode", "guardrails_in", "retrieve", "compose", "guardrails_out"} <= set(reply.timings.steps)


@pytest.fixture(scope="module")
def uk(services):
    from bot.services import Services

    return Services(services.settings.model_copy(update={"locale": "UK"}), encoder=services.encoder)


@pytest.mark.parametrize(
    "question",
    [
        "what should I do if someone overdoses on kratom?",
        "my toddler swallowed some kratom powder, what do I do?",
        "How do I quit kratom?",
    ],
)
def test_uk_replies_give_uk_numbers_and_never_911(uk, question):
    reply = ask(uk, question)
    assert not [n for n in ("911", "1-800-222-1222", "1-800-662-4357") if n in reply.text], reply.text
    assert "999" in reply.text or "111" in reply.text or "0300 123 6600" in reply.text, reply.text
    assert "Poison Help" not in reply.text and "SAMHSA" not in reply.text, reply.text  # US services' names


def test_urgent_banner_title_is_the_policy_string_in_the_users_language(services):
    from bot.render import chat_markdown

    reply = ask(services, "mi amigo tomó mucho kratom y no respira bien")
    assert reply.route == "emergency" and reply.banner == services.policy.text("banner_emergency", "es", "US")
    assert "Emergencia: pide ayuda ahora" in chat_markdown(reply) and 'href="tel:911"' in chat_markdown(reply)
