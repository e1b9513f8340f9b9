"""Answers a worried person can use (#12): bottom line first, on the question, honest about gaps."""

import re

import pytest

from bot.chat import answer_turn
from bot.eval import Item, answer_shape, load_dataset
from bot.focus import DANGLING_RE, METADATA_RE, addresses, detect_foci, is_dose_evidence
from bot.settings import REPO_ROOT
from guardrails.amounts import find_amounts

NO_SAFE_DOSE = "No safe or effective dose of kratom or 7-OH is known"


def ask(services, *turns):
    messages, reply = [], None
    for t in turns:
        messages.append({"role": "user", "content": t})
        reply = answer_turn(messages, services)
        messages.append({"role": "assistant", "content": reply.text})
    return reply


@pytest.mark.parametrize(
    "question, focus",
    [
        ("Is it safe to drink alcohol with kratom?", "alcohol"),
        ("what about benzos like xanax", "benzodiazepines"),
        ("will kratom show up on my work drug test", "drug_test"),
        ("can suboxone help me get off kratom", "buprenorphine"),
        ("and in the UK?", "uk"),
        ("is kratom legal in the UK", "uk_law"),
        ("my dog ate some kratom", "pets"),
        ("can I breastfeed after kratom", "breastfeeding"),
        ("how long does kratom withdrawal last", "withdrawal_duration"),
    ],
)
def test_focus_is_detected(question, focus):
    assert focus in [f.name for f in detect_foci(question)]


def test_a_shared_word_does_not_address_the_focus():
    alcohol = next(f for f in detect_foci("kratom and alcohol"))
    assert not addresses(
        alcohol, "In a 2021 report in Drug and Alcohol Dependence, researchers described 11 cases."
    )
    test = next(f for f in detect_foci("does kratom show up on a drug test"))
    assert not addresses(
        test, "Standard forensic toxicology tests after death do not routinely screen for kratom."
    )
    assert addresses(test, "The federal workplace drug testing panel set by HHS does not include kratom.")


def test_dangling_sentences_are_recognised():
    assert DANGLING_RE.search("Another 17.8% said they used kratom for anxiety.")
    assert DANGLING_RE.search("These results suggest caution.")
    assert not DANGLING_RE.search("The DEA says kratom use can lead to addiction.")


@pytest.mark.parametrize(
    "q",
    [
        "is there a safe dose of kratom?",
        "kratom for chronic pain dosage",
        "kratom dosage for chronic pain",
        "KRATOM DOSAGE FOR CHRONIC PAIN",
        "what's a safe amount of kratom?",
    ],
)
def test_dose_evidence_questions_get_one_answer(services, q):
    assert is_dose_evidence(q)
    reply = ask(services, q)
    assert not find_amounts(reply.text)
    # the router may answer or refuse a general dose question; either way the reply is one kind:
    # it opens with the same bottom line, says why, says what to do, and never gives a number
    assert reply.route in ("answer", "dosing_refusal")
    assert reply.text.startswith(NO_SAFE_DOSE), reply.text[:120]
    assert (
        "pharmacist" in reply.text
        and re.search(r"\bvar(y|ies)\b", reply.text)
        and "1-800-662-4357" in reply.text
    )


@pytest.mark.parametrize("q", ["how much kratom is too much?", "How much 7-OH is too much?"])
def test_how_much_is_too_much_adds_what_to_do_in_an_overdose(services, q):
    reply = ask(services, q)
    assert reply.text.startswith(NO_SAFE_DOSE) and not find_amounts(reply.text)
    assert any("naloxone" in a and "911" in a for a in reply.actions), reply.actions


def test_the_overdose_line_states_no_uncited_fact_about_naloxone(services):
    from guardrails.policy import load_policy

    line = load_policy().lines("en", "US")["action_overdose"]
    assert (
        "does no harm" not in line and "not harm" not in line
    )  # CDC's finding is shown cited, from its passage


def test_uncovered_focus_is_named_not_padded(services):
    reply = ask(services, "Is it safe to drink alcohol with kratom?")
    assert reply.route == "answer"
    assert reply.text.startswith("My sources don't cover kratom and alcohol specifically.")
    assert len(reply.cited) <= 1 and "pharmacist" in reply.text


def test_uk_follow_up_is_not_answered_with_us_law(services):
    reply = ask(services, "is kratom legal in the US?", "and in the UK?")
    assert "don't cover kratom and the UK" in reply.text and "Wisconsin" not in reply.text


def test_answer_leads_with_a_cited_bottom_line_then_key_facts(services):
    reply = ask(services, "Can kratom damage your liver?")
    first = reply.text.splitlines()[0]
    assert "liver" in first.lower() and first.endswith("[1]") and reply.bottom_line.number == 1
    assert reply.facts_heading == "Key facts" and reply.text.index("**Key facts**") < reply.text.index(
        "**Sources**"
    )
    assert 1 <= len(reply.facts) <= 5


def test_quitting_answer_says_what_you_can_do(services):
    reply = ask(services, "How do I quit kratom?")
    assert "1-800-662-4357" in " ".join([reply.message, *reply.actions])


def test_answer_set_schema_and_size():
    items = load_dataset(REPO_ROOT / "tests" / "data" / "answers.jsonl")
    assert len(items) >= 80
    assert sum(len(i.turns) > 1 for i in items) >= 10 and sum(i.not_covered for i in items) >= 10


def test_answer_shape_metrics_on_a_made_up_reply():
    item = Item("x", ["q"], "answer", bottom_line_any=["liver"], focus="liver")
    cited = [
        ("Kratom has been linked to liver injury.", 1),
        ("Another 17.8% had jaundice.", 2),
        ("Kratom has been linked to liver injury in case reports.", 1),
    ]
    shape = answer_shape(item, [s for s, _ in cited], cited)
    assert shape["bottom_line_ok"] and shape["focus_ok"]
    assert shape["dangling_sentences"] == 1 and shape["repeated_facts"] == 1


@pytest.mark.parametrize(
    "question, focus",
    [
        ("will a hair test pick up kratom from months ago", "hair_test"),
        ("how long after my last use would kratom still show up on a urine screen", "detection_window"),
        ("is maeng da stronger than regular kratom strains", "strains"),
        ("which kratom vendor is the most reputable and lab tested", "brands"),
        ("my capsules are two years old, does kratom go bad", "shelf_life"),
        ("my hair is thinning since I started kratom", "hair_loss"),
        ("can kratom mess with my insulin, I'm diabetic", "blood_sugar"),
        ("does kratom affect thyroid hormones", "hormones"),
        ("can I legally buy kratom in Ohio", "state_ohio_law"),
        ("is kratom banned in Japan", "country_japan_law"),
        ("is kratom legal in the UK", "uk_law"),
    ],
)
def test_uncovered_families_are_detected(question, focus):
    assert focus in [f.name for f in detect_foci(question)]


def test_a_narrower_focus_replaces_the_broader_one():
    names = [f.name for f in detect_foci("does kratom show up on a hair follicle drug test?")]
    assert "hair_test" in names and "drug_test" not in names


def test_a_place_named_for_another_reason_is_no_focus():
    assert detect_foci("the FDA held my kratom order from Indonesia at customs") == []
    florida_law = next(f for f in detect_foci("is kratom legal in Florida?"))
    assert not addresses(
        florida_law, "A 2019 lab study at the University of Florida looked at liver enzymes."
    )


def test_lab_animals_are_not_pets():
    pets = next(f for f in detect_foci("can my dog have kratom"))
    assert not addresses(
        pets, "The compound formed more in human plasma than in mouse, rat, dog or monkey plasma."
    )


def test_a_strength_comparison_is_not_a_dose_question():
    assert not is_dose_evidence("how much stronger than morphine is 7-OH?")
    assert is_dose_evidence("how much more kratom can I take?")


@pytest.mark.parametrize(
    "turns, named",
    [
        (["is kratom legal in Florida?"], "the law in Florida"),
        (["does kratom show up on a hair follicle test?"], "hair tests"),
        (["what's the difference between red vein and white vein kratom?"], "kratom strains"),
        (["is kratom legal in the us?", "and in Japan, is it legal there?"], "the law in Japan"),
    ],
)
def test_out_of_corpus_questions_say_not_covered_by_name(services, turns, named):
    reply = ask(services, *turns)
    assert reply.route == "answer"
    assert reply.text.startswith(f"My sources don't cover kratom and {named}"), reply.text[:160]
    assert len(reply.cited) <= 1


def test_state_law_gap_points_to_the_state():
    from guardrails.policy import load_policy

    line = load_policy().lines("en", "US")["not_covered_who_state"]
    assert "{topic}" in line and "state" in line


def test_a_section_that_answers_its_heading_leads(services):
    """The section's first sentence says yes/no to its heading, and the answer leads with it."""
    reply = ask(services, "Can a drug test detect kratom?")
    assert reply.bottom_line is not None
    assert reply.bottom_line.text.startswith("Yes"), reply.bottom_line.text


def test_a_dose_response_question_is_not_a_dose_question():
    """ "Is there a dose-response thing in the research?" asks what studies found, not for an amount."""
    assert not is_dose_evidence(
        "does using more kratom mean more side effects? is there a dose-response thing"
    )
    assert not is_dose_evidence("what does the dose-effect research show")
    assert is_dose_evidence("what doses did the kratom studies actually use?")


def test_federal_testing_panels_address_the_drug_test_focus():
    test = next(f for f in detect_foci("did they add kratom to the workplace drug tests in 2026?"))
    assert addresses(
        test,
        "No, the March 2026 notice made no changes to the list of drugs on the federal panels.",
        "Did the 2026 notice add kratom or 7-OH to federal testing?",
    )


def test_study_metadata_never_leads(services):
    """A study's who-and-when ("A 2020 study led by ... reported an online survey of ...") answers nothing;
    the opening answer of a retrieved section on the question leads instead."""
    reply = ask(services, "who is the typical kratom user in the US?")
    assert reply.bottom_line is not None
    assert not METADATA_RE.search(reply.bottom_line.text), reply.bottom_line.text
    assert "White" in reply.bottom_line.text, reply.bottom_line.text


def test_section_short_answers_do_not_stand_alone():
    """'Rarely: ...', 'Many were serious: ...' answer their own heading; elsewhere they would dangle."""
    for s in (
        "Rarely: postmortem tests found multiple substances.",
        "Many were serious: about half led to harm.",
    ):
        assert DANGLING_RE.search(s)


def test_a_follow_up_bottom_line_answers_the_latest_turn(services):
    """'...did they add it in 2026?' is answered by the 2026 notice, not by the first question's answer."""
    reply = ask(services, "do federal workplace drug tests look for kratom?", "did they add it in 2026?")
    assert reply.bottom_line is not None
    assert "2026" in reply.bottom_line.text, reply.bottom_line.text


# ---- the general "not covered" check (bot/gaps.py): topics no focus family lists ----------------


@pytest.mark.parametrize(
    "turns, named",
    [
        (["does kratom make glaucoma worse?"], "glaucoma"),
        (["is kratom ok with psoriasis"], "psoriasis"),
        (["can kratom trigger a gout flare"], "gout"),
        (["is kratom legal in wisconsin", "ok and what about ohio"], "Ohio"),
    ],
)
def test_a_topic_no_passage_addresses_is_named_not_padded(services, turns, named):
    reply = ask(services, *turns)
    assert reply.route == "answer"
    assert reply.text.startswith("My sources don't cover kratom and "), reply.text[:160]
    assert named in reply.text.split("\n")[0] and len(reply.cited) <= 1


@pytest.mark.parametrize(
    "turns",
    [
        ["kratom seizures real or fearmongering"],
        ["can u just buy narcan at walgreens or do u need a prescription"],
        ["kratom withdrawl symptoms list"],
        ["has kratom shown up in opioid overdose deaths?", "what about in california specifically?"],
    ],
)
def test_covered_questions_with_unusual_words_are_answered(services, turns):
    reply = ask(services, *turns)
    assert reply.route == "answer" and reply.bottom_line is not None
    assert "don't cover" not in reply.text


def test_gap_words_said_another_way_are_addressed():
    from bot.gaps import Vocabulary
    from bot.types import Chunk

    chunk = Chunk(
        "d#0", "d", "Title", "Heading", "FDA", "2024", "https://www.fda.gov/x",
        "Drug-induced liver injury was seen. Urine tests and over-the-counter naloxone. Teens use it. "
        "Withdrawal is common.",
    )  # fmt: skip
    said = Vocabulary([chunk])
    assert said.says("dili") and said.says("otc") and said.says("pee") and said.says("withdrawl")
    assert not said.says("teeth") and not said.says("tsa")


def test_a_regex_focus_is_read_as_a_regex():
    item = Item("x", ["q"], "answer", focus=r"\bcats?\b|\bpets?\b|veterinar", not_covered=True)
    line = "My sources don't cover kratom and cats specifically."
    assert answer_shape(item, [line], [])["not_covered_honest"]
    item = Item("x", ["q"], "answer", focus=r"\bcats?\b|\bpets?\b", not_covered=True)
    assert not answer_shape(item, ["My sources don't cover kratom and dogs specifically."], [])[
        "not_covered_honest"
    ]


def test_asking_for_a_hotline_gets_the_number_first_then_what_to_do(services):
    # the bottom line is the helpline's number, cited to SAMHSA; the what-to-do line still follows
    reply = ask(services, "is there a hotline or something for people trying to quit kratom")
    assert reply.route == "answer" and reply.bottom_line is not None
    assert "1-800-662-4357" in reply.bottom_line.text and reply.facts
    assert any("doctor" in a for a in reply.actions), reply.actions


@pytest.mark.parametrize(
    "question, fact",
    [
        ("how fast does kratom kick in and how long does one dose hang around in the body?", True),
        ("why does the same amount of kratom hit totally different depending on the brand", True),
        ("is there a safe dose of kratom", False),
        ("what doses did kratom studies use?", False),
        ("how much kratom is too much", False),
    ],
)
def test_a_dose_fact_question_is_not_a_dose_advice_question(question, fact):
    from bot.focus import is_dose_fact

    assert is_dose_evidence(question) and is_dose_fact(question) == fact


@pytest.mark.parametrize(
    "question, named",
    [
        ("kratom hypothyroidism thyroid levels", "thyroid"),
        ("is kratom toxic to cats", "cats"),
        ("does kratom show up on a DOT drug screen", "drug tests"),
        ("does kratom raise blood sugar", "blood sugar or diabetes"),
    ],
)
def test_a_family_focus_is_named_by_the_asked_word(question, named):
    from bot.focus import asked_label

    assert asked_label(detect_foci(question)[0], question) == named


def test_a_fact_already_inside_a_longer_chosen_sentence_is_not_repeated(services):
    # the FDA roundup says the seized products' worth twice: once after a closing quote (one sentence
    # to the splitter, with the maker's name) and once alone; the answer gives it once
    reply = ask(services, "did the fda seize millions of dollars worth of kratom?")
    assert reply.route == "answer"
    assert reply.text.count("worth more than $3 million") == 1, reply.text
