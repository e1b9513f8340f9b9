"""The last gate: nothing unchecked reaches a user."""

from guardrails.output_checks import check_output

PASSAGE = {1: "The FDA has not approved kratom for any medical use. Kratom has been linked to liver injury."}


def test_a_cited_sentence_found_in_its_passage_passes():
    text = "The FDA has not approved kratom for any medical use. [1]\n\n**Sources**\n1. FDA.\n\n_Education, not medical advice._"
    assert check_output(text, "answer", PASSAGE).ok


def test_an_uncited_sentence_fails():
    text = "The FDA has not approved kratom for any medical use. [1] Kratom is fine in moderation.\n\n**Sources**\n1. FDA."
    assert "uncited_text" in check_output(text, "answer", PASSAGE).problems


def test_a_sentence_not_in_the_cited_passage_fails():
    text = "Kratom cures chronic pain in most people. [1]"
    verdict = check_output(text, "answer", PASSAGE)
    assert not verdict.ok and "sentence_not_in_passage:1" in verdict.problems


def test_a_citation_to_a_passage_not_retrieved_fails():
    assert "citation_not_retrieved:2" in check_output("Kratom has been linked to liver injury. [2]", "answer", PASSAGE).problems


def test_an_amount_fails_in_any_route():
    for route in ("answer", "dosing_refusal", "emergency", "decline"):
        assert "amount:1" in check_output("Most people take 3-5 grams. [1]", route, PASSAGE).problems


def test_a_safety_claim_beyond_the_source_fails_even_if_quoted():
    passages = {1: "Kratom is completely safe and effective."}  # a bad passage must not pass either
    verdict = check_output("Kratom is completely safe and effective. [1]", "answer", passages)
    assert "unsupported_safety_claim" in verdict.problems


def test_a_negated_claim_is_fine():
    passages = {1: "The FDA says kratom is not safe or approved for any use."}
    assert check_output("The FDA says kratom is not safe or approved for any use. [1]", "answer", passages).ok


def test_a_failing_draft_is_replaced_by_the_fallback(services, monkeypatch):
    """If the composer ever produced an unsupported sentence, the user sees the fallback instead."""
    from bot.chat import answer_turn
    from bot.compose import Draft

    class Liar:
        def invoke(self, _input, config=None):
            return Draft("Kratom is completely safe. Take 4 grams. [1]", "", [], [], {1: "unrelated text"})

    monkeypatch.setattr(services, "composer", Liar())
    reply = answer_turn([{"role": "user", "content": "Is kratom safe for my liver?"}], services)
    monkeypatch.undo()
    assert reply.route == "answer"
    assert "grams" not in reply.text and "completely safe" not in reply.text
    assert "won't guess" in reply.text
    assert any(r.get("source") == "output_check" and not r["ok"] for r in reply.reasons)
