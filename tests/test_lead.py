"""Which sentence leads an answer (bot/lead.py): the section that asks what was asked, in its own words."""

import pytest

from bot.focus import action_topics, is_dose_evidence, is_dose_fact
from bot.lead import asked_service, asks_yes_no, content_words, lead_penalty, list_bonus, word_share
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
