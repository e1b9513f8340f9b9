"""The last gate: nothing unchecked reaches a user."""

from guardrails.output_checks import Verdict, check_grounding, check_output

PASSAGE = {1: "The FDA has not approved kratom for any medical use. Kratom has been linked to liver injury."}


def test_a_cited_sentence_found_in_its_passage_passes():
    assert check_grounding([("The FDA has not approved kratom for any medical use.", 1)], PASSAGE).ok


def test_a_cited_line_with_an_added_sentence_fails():
    cited = [("The FDA has not approved kratom for any medical use. Kratom is fine in moderation.", 1)]
    assert "sentence_not_in_passage:1" in check_grounding(cited, PASSAGE).problems


def test_a_sentence_not_in_the_cited_passage_fails():
    verdict = check_grounding([("Kratom cures chronic pain in most people.", 1)], PASSAGE)
    assert not verdict.ok and "sentence_not_in_passage:1" in verdict.problems


def test_a_citation_to_a_passage_not_retrieved_fails():
    assert (
        "citation_not_retrieved:2"
        in check_grounding([("Kratom has been linked to liver injury.", 2)], PASSAGE).problems
    )


def test_an_answer_with_no_cited_sentence_fails():
    assert check_grounding([], PASSAGE).problems == ["no_cited_sentence"]


def test_an_amount_fails_in_any_reply_and_its_sources():
    assert "amount:1" in check_output("Most people take 3-5 grams. [1]").problems
    assert (
        "amount:1" in check_output("Kratom is a tree. [1]", sources="1. A guide to taking 5 grams").problems
    )


def test_links_are_refused_outside_the_sources_list_only():
    assert check_output("Kratom is a tree. [1]", sources="**Sources**\n1. FDA. https://www.fda.gov/x").ok
    assert "link" in check_output("See https://www.fda.gov/x for more.").problems


def test_a_safety_claim_beyond_the_source_fails_even_if_quoted():
    passages = {1: "Kratom is completely safe and effective."}  # a bad passage must not pass either
    verdict = check_grounding([("Kratom is completely safe and effective.", 1)], passages)
    assert "unsupported_safety_claim" in verdict.problems


def test_a_negated_claim_is_fine():
    passages = {1: "The FDA says kratom is not safe or approved for any use."}
    assert check_grounding([("The FDA says kratom is not safe or approved for any use.", 1)], passages).ok


def test_a_failing_draft_is_replaced_by_the_fallback(services, monkeypatch):
    """If the composer ever produced an unsupported sentence, the user sees the fallback instead."""
    from bot.chat import answer_turn
    from bot.compose import Draft
    from bot.types import Fact

    class Liar:
        def invoke(self, _input, config=None):
            return Draft(
                bottom_line=Fact("Kratom is completely safe. Take 4 grams.", 1),
                cited_passages={1: "unrelated text"},
            )

    monkeypatch.setattr(services, "composer", Liar())
    reply = answer_turn([{"role": "user", "content": "Is kratom safe for my liver?"}], services)
    monkeypatch.undo()
    assert reply.route == "answer"
    assert "grams" not in reply.text and "completely safe" not in reply.text
    assert "won't guess" in reply.text
    assert any(isinstance(r, Verdict) and not r.ok for r in reply.reasons)
