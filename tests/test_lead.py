"""Which sentence leads an answer (bot/lead.py): the section that asks what was asked, in its own words."""

import re

import pytest

from bot.focus import action_topics, is_dose_evidence, is_dose_fact
from bot.lead import (
    answer_type_bonus,
    asked_service,
    asks_yes_no,
    content_words,
    lead_penalty,
    list_bonus,
    word_share,
)
from tests.test_answers import NO_SAFE_DOSE, ask

NO_PAIN_TRIAL = "No adequate controlled trial has shown kratom to be effective or safe for chronic pain."


def first_line(reply) -> str:
    return reply.text.split("\n")[0]


def test_a_what_is_question_with_extra_words_leads_with_the_definition(services):
    # the "What is kratom?" section answers it, though the question's wording is far from the heading's
    reply = ask(services, "what exactly is kratom - a drug, a plant, or a supplement?")
    lead = first_line(reply)
    assert "tree" in lead and "Southeast Asia" in lead, lead


def test_a_follow_up_leads_with_the_section_that_asks_the_latest_turn(services):
    reply = ask(services, "how many teenagers use kratom", "which kids are more likely to try it")
    lead = first_line(reply)
    assert "odds" in lead, lead  # "Which teens are more likely to use kratom?", not the earlier count


def test_a_dose_question_about_one_study_is_answered_by_that_study_then_the_no_safe_dose_line(services):
    reply = ask(
        services,
        "what is the half-life of mitragynine",
        "does that study tell you how much kratom is safe to take?",
    )
    lead = first_line(reply)
    assert lead.startswith("No: the Trakulsrichai study") and "[1]" in lead, lead
    assert NO_SAFE_DOSE in reply.text  # the house line still follows


def test_a_pain_efficacy_question_leads_with_the_cited_review_then_the_no_trial_line(services):
    reply = ask(services, "does kratom really work for chronic back pain?")
    lead = first_line(reply)
    assert "AHRQ" in lead and "too little evidence" in lead and "[1]" in lead, lead
    assert NO_PAIN_TRIAL in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "LiverTox also says kratom has no proven medical use.",
        "In every one of those kratom cases, both the mother and the baby went through withdrawal.",
        "The Kern County authors added that fatal overdoses involving kratom may also happen.",
        "In a 2020 study, Prozialeck and colleagues bought 8 kratom products from smoke shops and tested them.",
        "The Rogers authors concluded that more research is needed to understand the typical kratom user.",
    ],
)
def test_leaning_method_and_deferring_sentences_count_against_a_lead(text):
    assert lead_penalty(text) > 0


@pytest.mark.parametrize(
    "text",
    [
        "The AHRQ review found too little evidence to reach conclusions about kratom for chronic pain.",
        "Yes: in the 2014 Malaysian survey of 293 regular kratom users, more than half had severe dependence.",
        "The DEA says kratom is not currently a controlled substance under the federal Controlled Substances Act.",
        # "also" / "those" later in a sentence lean on nothing before it
        "Yes, most people who have used kratom have also used cannabis, according to both surveys.",
        "Deaths have been associated with kratom, but the FDA says most of those deaths also involved other drugs.",
    ],
)
def test_plain_answers_carry_no_lead_penalty(text):
    assert lead_penalty(text) == 0


@pytest.mark.parametrize(
    "question, yes_no",
    [
        ("is kratom safe?", True),
        ("kratom is natural so its safe right?", True),
        ("ok and can you get addicted", True),
        ("kratom withdrawl symptoms list", True),  # no wh-word: a "Yes"/"No" opener may answer it
        ("what happened with the DEA's 2016 attempt to schedule kratom?", False),
        ("why would a doctor miss kratom use during pregnancy", False),
        ("how were kratom-exposed newborns treated?", False),
    ],
)
def test_yes_no_questions_are_told_from_wh_questions(question, yes_no):
    assert asks_yes_no(question) is yes_no


def test_a_yes_no_opener_counts_against_leading_a_wh_question():
    opener = (
        "No: the Prevete review does not show that kratom is effective or safe for any medical condition."
    )
    assert lead_penalty(opener, yes_no=False) > lead_penalty(opener, yes_no=True) == 0


def test_rare_question_words_weigh_more_than_common_ones():
    weights = {"toddl": 7.0, "happe": 5.0, "gener": 1.0, "quest": 1.0}
    words = content_words("general question: what happens when toddlers get into kratom?")
    assert "krato" not in words
    rare = word_share(words, "Young children were exposed, mostly babies and toddlers.", weights)
    common = word_share(words, "A general question about kratom.", weights)
    assert rare > common > 0
    # a word only the section heading names counts half
    half = word_share(words, "Young children were exposed.", weights, heading="Were toddlers exposed?")
    assert 0 < half < rare


def test_how_much_to_trust_a_survey_is_no_dose_question():
    assert not is_dose_evidence("how much should anyone trust that survey?")
    assert is_dose_evidence("how much kratom should I take?")


def test_whether_an_effect_depends_on_the_amount_is_a_dose_fact():
    assert is_dose_fact("does the heart QT thing with kratom depend on how much people take?")
    assert not is_dose_fact("is there a known amount below which people dont get dependent?")


def test_a_nursing_student_is_no_pregnancy_action_topic():
    # "nursing" as a career says nothing about breastfeeding; "nursing my baby" still does
    assert "pregnancy" not in action_topics("is kratom hepatotoxic? nursing student, would like sources")
    assert "pregnancy" in action_topics("is kratom ok while nursing my baby?")


def cited_doc(reply, line: str) -> str:
    number = int(line.rsplit("[", 1)[1].split("]")[0])
    return next(c.doc_id for c in reply.citations if c.number == number)


def test_asking_for_a_line_to_call_about_quitting_leads_with_the_helpline_number(services):
    reply = ask(services, "is there a phone line for people who want to stop using kratom?")
    lead = first_line(reply)
    assert "1-800-662-4357" in lead and cited_doc(reply, lead) == "samhsa-national-helpline", lead


def test_asking_for_the_poison_line_leads_with_poison_help_though_retrieval_ranked_studies(services):
    question = "whats the number for poison control? asking about kratom, nothing urgent"
    passages = services.retriever.search(question, services.encoder.encode_one(question))
    assert "hrsa-poison-help" not in {p.doc_id for p in passages}  # what retrieval alone returns
    reply = ask(services, question)
    lead = first_line(reply)
    assert reply.route == "answer" and "1-800-222-1222" in lead, lead
    assert cited_doc(reply, lead) == "hrsa-poison-help"
    # the looked-up section is part of what the turn read, so the citation is checkable
    assert "hrsa-poison-help" in {p.doc_id for p in reply.passages}


@pytest.mark.parametrize(
    "question, service",
    [
        ("is there a hotline for quitting kratom", "samhsa-national-helpline"),
        ("what's the number for poison control", "hrsa-poison-help"),
        ("who do I call if I have questions about kratom poisoning?", "hrsa-poison-help"),
        ("how many calls about kratom did poison centers get?", None),
        ("what number of people are addicted to kratom?", None),
        ("can kratom cause seizures?", None),
    ],
)
def test_a_request_for_a_line_to_call_names_the_agency_that_runs_it(question, service):
    assert asked_service(question) == service


def test_a_question_asking_for_symptoms_leads_with_a_sentence_that_lists_them(services):
    reply = ask(services, "what are the signs of kratom withdrawal?")
    lead = first_line(reply)
    assert "runny nose" in lead and "trouble sleeping" in lead, lead  # not one summed-up symptom


@pytest.mark.parametrize(
    "question, text, bonus",
    [
        (
            "kratom withdrawal symptoms list",
            "Symptoms include muscle aches, a runny nose and trouble sleeping.",
            True,
        ),
        (
            "what are the side effects?",
            "Effects such as nausea, constipation and sweating were reported.",
            True,
        ),
        ("kratom withdrawal symptoms list", "Withdrawal was moderate on average in the study.", False),
        ("is kratom legal in Texas?", "Texas, Ohio and Utah regulate kratom sales.", False),
    ],
)
def test_only_a_list_question_prefers_a_lead_that_enumerates(question, text, bonus):
    assert (list_bonus(question, text) > 0) is bonus


# ---- answers8: short answers, the asked kind of answer, on-question facts (issue #12) ----------------


@pytest.mark.parametrize(
    "question, lead, kind",
    [
        (
            "how often did the babies need morphine for withdrawal?",
            "In the Ordean review, more than half of the infants needed morphine to treat their withdrawal.",
            "share",
        ),
        ("FDA seized kratom?? when was that", "The FDA reported a kratom seizure in May 2023.", "date"),
        (
            "why did texas put out a health warning about 7-oh",
            "Poison-center calls rose sharply in 2025, which led to the Texas warning.",
            "reason",
        ),
    ],
)
def test_a_wh_question_prefers_a_lead_of_the_kind_it_asks_for(question, lead, kind):
    assert answer_type_bonus(question, lead) > 0, kind
    assert answer_type_bonus(question, "Doctors treated the newborn's withdrawal with oral morphine.") == 0
    assert answer_type_bonus("is kratom legal?", lead) == 0  # a yes/no question asks no kind


def test_a_short_yes_or_no_is_dropped_but_a_hedge_is_kept():
    from bot.compose import Sentence, without_short_answer

    no = Sentence("c", 0, "No: the mitragynine content of the products varied about 16-fold.", 0)
    assert without_short_answer(no).text == "The mitragynine content of the products varied about 16-fold."
    hedge = Sentence("c", 0, "Rarely: postmortem tests found multiple substances in most people who died.", 0)
    assert without_short_answer(hedge) == hedge  # "Rarely" says how much, not which way


def test_a_no_to_the_opposite_heading_does_not_lead(services):
    # "Is every kratom product the same strength?" -> "No: ... varied 16-fold"; asked the other way
    # round ("does the strength differ?"), a "No" would say the opposite of the evidence
    reply = ask(
        services,
        "Does the strength of kratom differ between brands even when it's the same weight of powder?",
    )
    lead = first_line(reply)
    assert "16-fold" in lead and not lead.lower().startswith("no"), lead


def test_a_no_that_answers_another_heading_does_not_lead(services):
    # the Suboxone section's "No" answers "is it proven to work?", not "is it used?"
    reply = ask(services, "is suboxone a thing people use to get off kratom")
    lead = first_line(reply)
    assert "buprenorphine" in lead.lower() and not re.match(r"(?i)no\b", lead), lead


def test_a_when_question_leads_with_the_date(services):
    lead = first_line(ask(services, "FDA seized kratom?? when was that"))
    assert "2023" in lead, lead


def test_a_why_question_leads_with_the_reason(services):
    lead = first_line(ask(services, "why did texas put out a health warning about 7-oh"))
    assert "led to" in lead or "rose" in lead, lead


def test_a_how_often_question_leads_with_the_share(services):
    reply = ask(
        services,
        "NICU nurse asking: in the published cases of kratom-exposed newborns, how often did the babies "
        "need morphine for withdrawal?",
    )
    assert "more than half" in first_line(reply), first_line(reply)
    assert "1-800-662-4357" not in reply.text  # a newborn's withdrawal is no quitting advice


def test_facts_far_from_the_question_and_the_lead_are_dropped(services):
    reply = ask(
        services,
        "whats the poison control number? want it saved in my phone since theres kratom in the house "
        "(everyones fine)",
    )
    assert "1-800-222-1222" in first_line(reply)
    assert "Post study" not in reply.text  # poison-center outcome shares: nobody asked


def test_a_federal_question_gets_no_state_law_or_drug_test_facts(services):
    reply = ask(services, "kratom federal law status usa")
    assert "Controlled Substances Act" in first_line(reply)
    assert "Wisconsin" not in reply.text and "panel" not in reply.text, reply.text


def test_which_enzymes_gets_no_liver_injury_facts(services):
    reply = ask(
        services,
        "My mum takes kratom alongside a bunch of prescription meds. Can kratom interact with prescriptions?",
        "which liver enzymes are involved in that?",
    )
    assert "CYP" in first_line(reply)
    assert "DILIN" not in reply.text and "Drug-Induced Liver Injury" not in reply.text, reply.text


def test_a_place_beside_a_topic_must_be_addressed(services):
    reply = ask(services, "how many kratom deaths are there in the UK each year? any ONS figures?")
    assert first_line(reply).startswith("My sources don't cover kratom and the UK specifically"), reply.text
    assert "CDC" not in reply.text


@pytest.mark.parametrize(
    "question, absent",
    [
        ("For kratom liver injury, did the DILIN patients recover?", "quitting"),
        (
            "in the published cases, how often did kratom-exposed babies need morphine for withdrawal?",
            "quitting",
        ),
        ("The label calls kratom 'a gentle botanical, nothing like a drug.' Is that honest?", "product"),
        ("did the amount of kratom relate to the buprenorphine-naloxone dose needed?", "overdose"),
    ],
)
def test_action_topics_do_not_fire_on_a_shared_word(question, absent):
    assert absent not in action_topics(question)


@pytest.mark.parametrize(
    "question, present",
    [
        ("I'm pregnant and want to quit kratom, will my baby go through withdrawal?", "quitting"),
        ("Do kratom products contain what the label says?", "product"),
        ("my friend took too much, should we give naloxone?", "overdose"),
        ("is there a recovery program for kratom?", "quitting"),
    ],
)
def test_action_topics_still_fire_when_asked(question, present):
    assert present in action_topics(question)


@pytest.mark.parametrize(
    "question",
    [
        "In the published cases of buprenorphine-naloxone for kratom dependence, did the amount of kratom "
        "people used relate to how much buprenorphine they needed?",
        "Does the breathing ceiling also apply when 7-OH is taken at higher amounts?",
    ],
)
def test_a_question_about_how_amounts_relate_is_a_dose_fact(question):
    assert is_dose_fact(question)


def test_asking_whether_a_low_dose_is_harmless_is_a_dose_evidence_question():
    assert is_dose_evidence("Is a low dose of kratom basically harmless?")
    assert not is_dose_fact("Is a low dose of kratom basically harmless?")


def test_where_someone_can_get_help_leads_with_the_helpline_number(services):
    reply = ask(services, "Where can someone get help to stop using kratom? Ideally somewhere confidential.")
    lead = first_line(reply)
    assert "1-800-662-4357" in lead and cited_doc(reply, lead) == "samhsa-national-helpline", lead


def test_a_question_about_988_gets_988_facts_not_a_case_report(services):
    reply = ask(
        services,
        "what's the 988 number actually for",
        "would they talk to me about kratom or is it only for suicide stuff? nothing urgent, just want to know",
    )
    assert "988" in first_line(reply), first_line(reply)
    assert "substance use" in reply.text and "Case Reports in Pediatrics" not in reply.text


def test_a_thing_no_source_names_is_not_covered_even_beside_a_focus(services):
    # the liver focus is addressed, but milk thistle is not: say so rather than pad with liver facts
    reply = ask(
        services,
        "Does taking milk thistle protect your liver if you use kratom? Saw it recommended on a forum.",
    )
    assert first_line(reply).startswith("My sources don't cover kratom and thistle"), reply.text
    # a word that names the focus itself is no gap
    reply = ask(
        services, "Hepatology fellow here. For kratom-associated DILI, what latency is typically reported?"
    )
    assert "don't cover" not in reply.text, reply.text


def test_a_short_corpus_word_is_no_spelling_of_a_longer_question_word():
    from bot.gaps import Vocabulary
    from bot.types import Chunk

    vocab = Vocabulary(
        [Chunk("c", "d", "t", "h", "p", "2020", "u", "This is kratom; withdrawal and kratom.")]
    )
    assert not vocab.says("thistle")  # "this" is not "thistle"
    assert vocab.says("krat") and vocab.says("withdrawals")
