"""Spanish turns: retrieval over the Spanish lines, Spanish answers with the English answer's shape,
the language of the last turn, the `lang` override, and the urgent Spanish templates."""

from __future__ import annotations

import httpx
import pytest

from bot.chat import answer_turn
from bot.compose import AGENCIES, is_contained
from bot.corpus_es import load_spanish, usable_lines
from bot.eval import reply_lang
from bot.query import build_query
from bot.settings import REPO_ROOT
from bot.spanish import (
    DANGLING_ES_RE,
    YES_NO_OPENER_ES_RE,
    Glossary,
    _figures,
    asks_wh_es,
    asks_what_kratom_is,
    fold,
    frames,
    tokenize_en_stems,
    tokenize_es,
)
from guardrails.amounts import find_amounts
from guardrails.language import detect_lang


def ask(services, *turns: str, lang: str | None = None):
    messages: list[dict] = []
    reply = None
    for turn in turns:
        messages.append({"role": "user", "content": turn})
        reply = answer_turn(messages, services, lang=lang)
        messages.append({"role": "assistant", "content": reply.text})
    return reply


@pytest.fixture(scope="module")
def spanish_text(corpus_docs) -> dict[str, set[str]]:
    """Document id -> its Spanish lines that may be shown."""
    spanish = load_spanish(REPO_ROOT / "corpus", corpus_docs)
    return {d.id: {ln.es for ln in usable_lines(spanish[d.id], d)} for d in corpus_docs if d.id in spanish}


def assert_spanish_answer(reply, spanish_text) -> None:
    """Spanish, the answer's parts, and every cited line a Spanish line of the document it cites."""
    assert reply.route == "answer" and reply.lang == "es"
    assert reply_lang(reply.text) == "es", reply.text
    assert reply.cited, reply.text
    docs = {c.number: c.doc_id for c in reply.citations}
    for fact in reply.cited:
        assert fact.text in spanish_text[docs[fact.number]], fact
    assert (
        "**Fuentes**" in reply.text and "**Sources**" not in reply.text
    )  # the renderer, in the reply's language
    assert reply.disclaimer.startswith("Información educativa") and find_amounts(reply.text) == []


def assert_leads_with(services, spanish_text, question: str, words: str) -> None:
    """A Spanish answer to `question` whose bottom line says `words`."""
    reply = ask(services, question)
    assert_spanish_answer(reply, spanish_text)
    assert reply.bottom_line and words in reply.bottom_line.text, reply.text


def test_spanish_words_are_stemmed_and_accent_folded():
    assert tokenize_es("hígado") == tokenize_es("higado") == tokenize_es("Hígados")
    assert tokenize_es("embarazada") == tokenize_es("embarazadas")
    assert tokenize_es("¿Qué es el kratom?") == []  # stopwords and the subject itself carry no topic


def test_glossary_bridges_phrases_to_the_corpus_english(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(
        "terms:\n  prueba de drogas: drug test\n  hígado: liver\n  prueba: test\n", encoding="utf-8"
    )
    g = Glossary.load(path)
    assert g.english("¿Sale en una prueba de drogas del trabajo?") == "drug test"  # the longest phrase wins
    assert g.english("me duele el HIGADO") == "liver"


def test_the_real_glossary_is_about_the_corpus():
    g = Glossary.load(REPO_ROOT / "corpus" / "glossary_es.yaml")
    assert len(g.terms) > 100
    assert "pregnancy" in g.english("¿Puedo tomar kratom si estoy embarazada?")


def test_glossary_keys_sharing_a_stem_keep_every_word(tmp_path):
    """Found on the dev set: "seguro" and "seguridad" share a stem, the later key's length won, and
    "¿es seguro?" bridged to nothing."""
    path = tmp_path / "g.yaml"
    path.write_text("terms:\n  seguro: safe\n  seguridad: safety\n", encoding="utf-8")
    assert Glossary.load(path).english("¿es seguro?") == "safe safety"


@pytest.mark.parametrize(
    "question, english",
    [
        ("mi primo dice q le da malilla si no lo toma", "withdrawal"),
        ("mi chamaco anda tomando kratom, es común en chavos de su edad?", "adolescents"),
        ("las pastillas de 7 que venden en las tiendas son peligrosas?", "7-OH"),
        ("quiero quitarme del kratom", "quit"),
        ("sale en la prueba de orina del trabajo?", "urine drug test"),
        ("la hierba esa del kratom da positivo en el antidoping?", "drug test"),
    ],
)
def test_everyday_and_regional_words_reach_the_corpus_terms(question, english):
    """Glossary gaps from spent Spanish sets: regional words for withdrawal, children, 7-OH pills, quitting, tests."""
    found = Glossary.load(REPO_ROOT / "corpus" / "glossary_es.yaml").english(question)
    assert english in found
    assert "cannabis" not in found  # "la hierba" here is the herb, not marijuana


@pytest.mark.parametrize(
    "question, english",
    [
        ("kratom + weed is that a bad combo?? todos mis friends fuman", "cannabis"),
        ("y con percocets? he also takes those", "oxycodone"),
        ("ok pero y el test de pelo? ese sí lo agarra?", "hair test"),
        ("¿es peligroso mezclar el kratom con perico?", "cocaine"),
        ("¿está en la lista de la Agencia Mundial Antidopaje?", "anti-doping"),
        ("En Guate, ¿es legal el kratom?", "Guatemala"),
        ("Anda bien estreñido, suda mucho y ya casi no come", "constipation sweating appetite"),
        ("Asere, qué síntomas da dejar el kratom de golpe?", "withdrawal"),
    ],
)
def test_spanglish_slang_and_nicknames_reach_the_corpus_terms(question, english):
    """Glossary gaps from the spent blind5: Spanglish drug names, a street name for cocaine, hair tests,
    sports doping and a country's nickname bridged nothing, so the documents (or the honest gap) were missed."""
    assert english in Glossary.load(REPO_ROOT / "corpus" / "glossary_es.yaml").english(question)


def test_where_it_is_sold_does_not_outweigh_what_is_asked(services, spanish_text):
    """Found on spanish_blind4: "¿es legal el kratom en estados unidos? aqui lo venden en la gasolinera"
    bridged "sell sold gas station" to the English index, and the 7-OH warning letters (sold at gas
    stations) led with "No: 7-OH is not lawful in supplements". Selling and shop words name no topic."""
    g = Glossary.load(REPO_ROOT / "corpus" / "glossary_es.yaml")
    assert g.english("lo venden en la gasolinera y en la tienda de vapes") == ""
    assert_leads_with(
        services,
        spanish_text,
        "wepa, una pregunta: es legal el kratom en estados unidos o es ilegal? aqui en PR lo venden en la "
        "gasolinera como si na",
        "no es una sustancia controlada",
    )


def test_natural_is_no_bridge_to_naturally_occurring_7oh(services, spanish_text):
    """Found on spanish_dev: "el kratom es natural así que es seguro, ¿verdad?" bridged "natural" to the
    English 7-OH documents ("found naturally in trace amounts"), and "así que es" read as "¿qué es?"."""
    assert "natural" not in Glossary.load(REPO_ROOT / "corpus" / "glossary_es.yaml").english("es natural")
    assert frames("el kratom es natural asi que es seguro verdad?") == frozenset()
    assert frames("mi novio dice que es como un cafecito") == frozenset()
    assert "_what_is" in frames("oigan q es el kratom??")
    assert_leads_with(
        services,
        spanish_text,
        "el kratom es natural asi que es seguro verdad?",
        "No está demostrado que el kratom sea seguro",
    )


def test_a_short_word_sharing_a_stem_is_not_the_term():
    g = Glossary.load(REPO_ROOT / "corpus" / "glossary_es.yaml")
    assert "quit" not in g.english("dicen que me quita el dolor")  # "quita" is not "quitarme"
    assert "death" not in g.english("es tipo el mate")  # "mate" is not "matar"


def test_a_long_or_short_word_sharing_a_stem_is_not_the_term():
    """Found on spanish_blind4: "gateando" (crawling) shares the stem of "gato", and the toddler
    question was called "not covered" for pets; "pa" spelled out as "para" must not be "parar" (stop)."""
    g = Glossary.load(REPO_ROOT / "corpus" / "glossary_es.yaml")
    assert "cat" not in g.english("mi niño anda gateando por todo")
    assert "stop" not in g.english("dice q es un te natural pa la energia")
    assert "kidney" in g.english("¿y los riñones?") and "interact" in g.english("¿puede interferir?")


def test_chat_shorthand_reads_as_the_word_it_stands_for():
    """Found on spanish_blind4: "q es el kratom" was no definition question ("qué es")."""
    assert "_what_is" in frames("oigan q es el kratom??")
    assert "_what_is" in frames("what's the deal con el 7-OH??")
    assert detect_lang("pa q sirve el kratom") == "es"


def test_a_count_a_place_or_a_sign_question_meets_the_headings_of_its_kind():
    """Found on the spent blind5: "¿cuántos...?", "¿dónde...?" and "¿qué señales...?" are stopwords, so
    "¿Dónde consiguen los pelados el kratom?" led with why pediatricians worry, not with the section
    "¿Dónde consiguen el kratom los niños y adolescentes?"."""
    assert "_how_many" in frames("¿Cuántos adolescentes lo usan?") & frames(
        "¿Cuántos niños y adolescentes han consumido kratom?"
    )
    assert "_how_many" in frames("cuanta gente usa kratom en Estados Unidos?")
    assert "_how_many" not in frames("¿cuánto kratom es mucho?")  # an amount, not a count
    assert "_where" in frames("¿Dónde consiguen los pelados el kratom?")
    assert "_signs" in frames("¿qué señales da el hígado?") & frames(
        "¿Cómo se manifiesta la lesión hepática?"
    )


def test_a_where_question_leads_with_the_section_that_says_where(services, spanish_text):
    assert_leads_with(
        services,
        spanish_text,
        "¿Dónde consiguen los pelados el kratom? Soy profe en un colegio de Doral y me preocupa porque "
        "escuché a unos de noveno hablando de eso.",
        "gasolineras",
    )


def test_spanglish_with_as_many_spanish_as_english_words_is_answered_in_spanish():
    """Found on spanish_blind4: three Spanish and three English function words tied, and the tie went
    to English. A tie of one word each still does (an English question naming one Spanish word)."""
    assert detect_lang("hay dosing charts online pa kratom, are those legit? based on science o nah?") == "es"
    assert detect_lang("is kratom legal en Texas?") == "en"


def test_a_spanish_verb_with_its_pronoun_attached_is_spanish():
    """Found on the spent blind5: "and is it legal venderlo así, como supplement?" (a follow-up to a
    Spanglish 7-OH question) counted three English function words against two Spanish and got an
    English reply. Over the 21,473 user turns of the test and training data this changes 2 turns
    (this one and "he estado pensando en suicidarme"), both labelled Spanish."""
    assert detect_lang("and is it legal venderlo así, como supplement?") == "es"
    assert detect_lang("he estado pensando en suicidarme") == "es"
    assert detect_lang("is it ok to take it with carlo's meds?") == "en"  # no verb, no pronoun
    assert detect_lang("h0w m4ny gr4ms 0f kr4t0m sh0uld 1 t4ke f0r p41n") == "en"  # "ke" here is leetspeak


def test_spanish_shorthand_has_one_list():
    """The Spanish search and the router's normaliser read the same shorthand list; words that are also
    English ("k", "pa", "ta") are spelled out only in Spanish text."""
    from guardrails.normalize import ES_SHORTHAND, normalize

    assert fold("q es el kratom, pa q sirve, xq lo toman, tbn porq") == (
        "que es el kratom, para que sirve, porque lo toman, tambien porque"
    )
    assert set(ES_SHORTHAND) >= {"q", "xq", "pa", "tmb"}
    assert normalize("q es, xq, tbn") == "que es, porque, tambien"
    assert normalize("k thanks, my pa and ta") == "k thanks, my pa and ta"


def test_a_spanglish_questions_english_words_reach_the_english_index(services):
    """Found on spanish_blind4: once answered in Spanish, "dosing charts ... based on science" bridged
    nothing to the English index (no glossary term) and the dose-evidence documents were not found."""
    passages, draft = spanish_draft(
        services, "hay dosing charts online pa kratom, are those legit? based on science o nah?"
    )
    assert "smith-dose-effect-2022" in {p.doc_id for p in passages}
    assert "dosis" in draft.message  # answered as the dose-evidence question it is


def test_who_is_asking_is_no_topic():
    """Found on spanish_blind4: "Mi madre toma pastillas ... ¿puede interferir con los medicamentos?"
    matched the mother of a neonatal case report; a relative or a friend names no topic."""
    toks = tokenize_es("Mi madre y mi esposo y una amiga le dieron kratom")
    assert not {"madr", "espos", "amig"} & set(toks)


def spanish_draft(services, *turns: str):
    """The Spanish search and composer on a conversation's user turns (the router is tested elsewhere:
    these questions are about what the Spanish answer says)."""
    query = build_query(list(turns))
    vector = services.encoder.encode_one(query)
    passages = services.spanish.search(query, vector)
    lines = services.policy.lines("es", services.settings.locale) | {
        k: services.policy.text(k, "es", services.settings.locale)
        for k in ("key_facts", "what_you_can_do", "not_covered_focus", "not_covered_closest")
    }
    draft = services.spanish.invoke(
        {"question": query, "vector": vector, "passages": passages, "last": turns[-1], "lines": lines}
    )
    return passages, draft


def test_a_what_is_question_finds_the_sections_that_define(services):
    """Found on spanish_dev: "¿Qué es la mitraginina?" ranked three death reports first ("mitraginina"
    alone); the question's frame now meets the headings that ask the same ("¿Qué es ...?")."""
    passages, _ = spanish_draft(services, "¿Qué es la mitraginina?")
    docs = list(dict.fromkeys(p.doc_id for p in passages))[:5]
    assert {"obeng-mitragynine-7oh-2021", "kruegel-7oh-metabolite-2019", "who-ecdd-kratom-2021"} & set(docs)


def test_a_synonym_in_the_english_twin_is_no_false_gap(services):
    """Found on spanish_blind4: "¿y los riñones?" after a liver question got "Mis fuentes no tratan
    específicamente el kratom y los riñones", though the FDA's heavy-metal page lists kidney damage
    ("daño renal": no Spanish word shared with "riñones")."""
    _, draft = spanish_draft(services, "el kratom daña el higado?", "y los riñones?")
    assert not draft.not_covered
    assert "renal" in " ".join(f.text for f in draft.cited)


def test_a_toddler_question_is_not_about_pets(services):
    _, draft = spanish_draft(
        services,
        "¿Qué le puede pasar a un niño chiquito si se traga kratom sin querer? Mi niño anda gateando por todo.",
    )
    assert not draft.not_covered, draft


def test_the_document_first_in_two_rankings_beats_one_in_all_three_far_down(services):
    """Found on spanish_blind4: "narcan sin receta" led with a survey of prescription-opioid users,
    which sat third and fourth in two rankings and fifteenth in the third."""
    passages, _ = spanish_draft(services, "¿se puede comprar narcan sin receta en la farmacia?")
    assert passages[0].doc_id.startswith("fda-otc-naloxone")


@pytest.mark.parametrize(
    "turns, named",
    [
        (
            (
                "klk, el kratom es legal en los estados unidos?",
                "y aqui en republica dominicana se puede vender?",
            ),
            "República Dominicana",
        ),
        (("el kratom le afecta a la tiroides? mi tía tiene hipotiroidismo",), "la tiroides"),
        (("¿El kratom altera la regla?",), "la menstruación"),
        (("Buenas. En Guate, ¿es legal el kratom? Un shute del barrio lo anda vendiendo",), "Guatemala"),
        (
            ("Juego al rugby. ¿Está en la lista de sustancias prohibidas de la Agencia Mundial Antidopaje?",),
            "el deporte",
        ),
    ],
)
def test_a_gap_is_named_in_spanish(services, turns, named):
    """Found on spanish_blind4 and the spent blind5: a Spanish-speaking country's law (also by its
    nickname, "Guate"), the thyroid and sports doping were answered with unrelated lines; the English
    corpus lacks them, so the honest answer names the gap in Spanish, with the English line's words
    ("don't cover": "no cubren", as the general not-covered reply says)."""
    _, draft = spanish_draft(services, *turns)
    assert draft.not_covered and named in draft.message, draft
    assert draft.message.startswith("Mis fuentes no cubren específicamente el kratom y"), draft.message


@pytest.mark.parametrize(
    "turns, named",
    [
        (
            (
                "A mi padre lo operan de la cadera el mes que viene y toma kratom a diario. ¿Se sabe si hay "
                "que dejarlo antes por lo de la anestesia?",
            ),
            "la anestesia",
        ),
        (
            ("Klk, voy a coger un vuelo pa' Miami, ¿puedo llevar kratom en la maleta? ¿La TSA dice algo?",),
            "los viajes en avión",
        ),
        (("¿una persona que usa kratom puede donar sangre?",), "la donación de sangre"),
    ],
)
def test_an_everyday_topic_no_source_covers_is_named_not_padded(services, turns, named):
    """Found on the spent blind5 and spanish_blind4: surgery, air travel and blood donation were
    answered with unrelated lines (a survey on stopping, a New York death count, how kratom is taken).
    The English gap check names such topics; the Spanish side has the glossary's `absent` list."""
    _, draft = spanish_draft(services, *turns)
    assert draft.not_covered and named in draft.message, draft


def test_the_absent_topics_are_ones_the_corpus_does_not_say(services):
    """An `absent` entry whose English the corpus says would hide a document: the check skips it at run
    time, and this keeps the list honest as the corpus grows."""
    from bot.spanish import en_stem

    search = services.spanish
    search._load()
    glossary = search.glossary
    assert len(glossary.absent) >= 30
    for key, (label, english) in glossary.absent.items():
        assert label and not any(en_stem(w) in search.en_vocabulary for w in english.split()), (key, english)
        assert key not in glossary.terms
    assert glossary.absent_topics("¿el kratom es seguro?") == []  # "seguro" (safe) is no health insurance


def test_an_amount_question_that_asks_another_fact_is_answered_from_the_sources(services):
    """Found on the spent blind5 and spanish_blind4: "¿depende de la cantidad?" and "en poca cantidad te
    activa y en mucha te seda?" led with the no-safe-dose line alone, as if a dose had been asked (the
    English composer answers such questions from the passages: DOSE_FACT_RE). The line follows the fact."""
    no_safe_dose = services.policy.lines("es", services.settings.locale)["no_safe_dose"]
    for turns in (
        ("¿El kratom crea dependencia?", "¿Y eso depende de la cantidad que se tome, o da igual?"),
        ("¿es verdad que en poca cantidad el kratom te pone activo y en mucha te deja planchado?",),
    ):
        _, draft = spanish_draft(services, *turns)
        assert draft.bottom_line is not None and no_safe_dose not in draft.message, draft
        assert no_safe_dose in draft.notes
    _, draft = spanish_draft(
        services, "¿Hay alguna cantidad de kratom que las autoridades consideren segura?"
    )
    assert draft.message.startswith(no_safe_dose) and draft.bottom_line is None  # a safe amount is asked


def test_the_closest_fact_beside_a_gap_is_a_general_one(services):
    """Found on spanish_blind4: beside "no cubren la tiroides" the "closest general safety fact" was a
    withdrawal symptom from one poison centre's case series (its name matched "poison")."""
    _, draft = spanish_draft(
        services, "el kratom le afecta a la tiroides? le dijeron que lo probara pa el cansancio"
    )
    assert draft.not_covered and draft.facts
    assert "abstinencia" not in draft.facts[0].text, draft.facts


def test_a_spanish_follow_up_without_its_own_topic_keeps_the_previous_question():
    """Found on spent Spanish sets: Spanish drops the "it" English says, so "¿y cómo se trata?" searched
    for "kratom" alone and lost the addiction it asks about. A follow-up naming a topic of its own still
    replaces the old topic, and English follow-ups are folded as before."""
    assert "adicción" in build_query(["¿el kratom causa adicción?", "¿y cómo se trata?"])
    assert "legal" in build_query(["¿es legal el 7-OH?", "¿y en Texas?"])
    assert (
        build_query(["¿el kratom sirve para la ansiedad?", "¿y en el embarazo?"])
        == "kratom ¿y en el embarazo?"
    )
    assert (
        build_query(["is kratom legal?", "and what about the liver?"]) == "kratom and what about the liver?"
    )


def test_an_amount_or_a_person_is_no_topic_of_a_spanish_follow_up():
    """Found on the spent blind5: "¿Y si lo encuentran con un poquito para su propio uso?" after a question
    about Wisconsin's ban searched without Wisconsin ("un poquito" read as the follow-up's own topic)."""
    query = build_query(
        [
            "Una consulta, vivo en Madison. ¿Es cierto que en Wisconsin el kratom está prohibido?",
            "Y si a alguien lo encuentran solo con un poquito para su propio uso, ¿qué le pasa? Pregunto por un primo.",
        ]
    )
    assert "Wisconsin" in query
    assert build_query(["¿el kratom sirve para la ansiedad?", "¿y una vez al día?"]).startswith(
        "¿el kratom sirve"
    )
    assert "ansiedad" not in build_query(["¿el kratom sirve para la ansiedad?", "¿y en el embarazo?"])


def test_a_spanish_follow_up_is_answered_about_the_earlier_subject(services, spanish_text):
    reply = ask(services, "¿el kratom causa adicción?", "¿y cómo se trata?")
    assert_spanish_answer(reply, spanish_text)
    lead = (reply.bottom_line.text if reply.bottom_line else reply.facts[0].text).lower()
    assert "adicción" in lead or "dependencia" in lead, reply.text


def test_the_section_whose_heading_the_question_asks_leads(services, spanish_text):
    """Found on the Spanish set: every heading of the WHO document names the WHO, so the agency's name
    matched three other sections as well as the ban question's, and the answer led with surveillance."""
    reply = ask(
        services, "¿la OMS prohibió el kratom en todo el mundo? un amigo de Montevideo me jura que sí"
    )
    assert_spanish_answer(reply, spanish_text)
    assert reply.bottom_line and "prohibición internacional" in reply.bottom_line.text, reply.text


def test_spanish_lines_are_indexed_beside_the_english(services):
    chunks = services.retriever.es_chunks
    assert len(chunks) > 500 and all(c.lang == "es" and c.twin for c in chunks)
    assert not any(c.lang == "es" for c in services.retriever.chunks)  # English turns never see them


def test_spanish_pregnancy_question_is_answered_not_called_uncovered(services, spanish_text):
    """Issue #14: it got "Mis fuentes verificadas no cubren esa pregunta" though English is answered."""
    reply = ask(services, "¿Puedo tomar kratom si estoy embarazada?")
    assert_spanish_answer(reply, spanish_text)
    assert "no cubren" not in reply.text
    assert reply.actions and f"**{reply.actions_heading}**" in reply.text  # pregnancy is an action topic
    assert {"wright-prenatal-kratom-review-2021", "eldridge-neonatal-2018", "murthy-neonatal-2019"} & set(
        reply.doc_ids
    )


def test_what_is_kratom_in_spanish_gets_a_spanish_answer(services, spanish_text):
    """Issue #14: it got two English sentences about survey demographics."""
    reply = ask(services, "¿Qué es el kratom y es seguro tomarlo?")
    assert_spanish_answer(reply, spanish_text)
    assert reply.facts_heading == "Datos clave" and "**Datos clave**" in reply.text
    assert 1 <= len(reply.facts) <= 5


@pytest.mark.parametrize(
    "question",
    ["el kratom puede matar a alguien?", "kratom embarazo es seguro", "krato y el higado, es malo?"],
)
def test_a_short_spanish_question_is_answered_in_spanish(services, question):
    """Found on an outside Spanish set: "kratom" and "a" counted as English words, so a short Spanish
    question tied and got an English reply (or an English "couldn't put together an answer")."""
    assert detect_lang(question) == "es"
    reply = ask(services, question)
    assert reply.lang == "es" and reply_lang(reply.text) == "es", reply.text


@pytest.mark.parametrize(
    "question, place",
    [
        ("¿El kratom es legal en España? Lo venden en webs", "la ley en España"),
        ("el kratom es legal en mexico? lo puedo comprar en cdmx?", "la ley en México"),
        ("es legal el kratom en texas?", "la ley en Texas"),
    ],
)
def test_spanish_law_in_a_place_the_corpus_lacks_is_named_not_padded(services, question, place):
    """Found on an outside Spanish set: place names are no glossary terms, so the law focus never fired
    and the answer padded with Wisconsin's or Arkansas's law."""
    reply = ask(services, question)
    assert reply.route == "answer" and reply.lang == "es"
    assert place in reply.text and "Wisconsin" not in reply.text and "Arkansas" not in reply.text, reply.text


def test_spanish_law_in_a_place_the_corpus_has_is_answered(services, spanish_text):
    reply = ask(services, "el kratom es legal en wisconsin?")
    assert_spanish_answer(reply, spanish_text)
    assert reply.bottom_line and "Wisconsin" in reply.bottom_line.text


def test_the_chats_spanish_example_is_answered_in_spanish(services, spanish_text):
    reply = ask(services, "¿El kratom es legal en Estados Unidos?")
    assert_spanish_answer(reply, spanish_text)


def test_a_mixed_conversation_follows_its_last_user_turn(services, spanish_text):
    reply = ask(services, "Can kratom damage your liver?", "¿y qué pasa si lo mezclo con alcohol?")
    assert reply.lang == "es" and reply_lang(reply.text) == "es"
    reply = ask(services, "¿el kratom daña el hígado?", "and what about the heart?")
    assert reply.lang == "en" and reply_lang(reply.text) == "en"


def test_lang_override_answers_an_english_question_in_spanish(services, spanish_text):
    reply = ask(services, "Can kratom damage your liver?", lang="es")
    assert_spanish_answer(reply, spanish_text)
    assert ask(services, "¿el kratom daña el hígado?", lang="en").lang == "en"


def test_spanish_emergency_keeps_its_spanish_template(services):
    reply = ask(services, "mi amigo tomó mucho kratom y no despierta, qué hago")
    assert reply.route == "emergency" and reply.lang == "es" and "911" in reply.text


def test_spanish_dose_request_is_still_refused(services):
    reply = ask(services, "¿cuántos gramos de kratom debo tomar para el dolor de espalda?")
    assert reply.route == "dosing_refusal" and find_amounts(reply.text) == []


def test_api_lang_override_on_api_chat_and_openai_metadata(server):
    with httpx.Client(base_url=server.url, timeout=120) as client:
        body = {"messages": [{"role": "user", "content": "Can kratom damage your liver?"}], "lang": "es"}
        out = client.post("/api/chat", json=body).json()
        assert out["lang"] == "es" and reply_lang(out["answer"]) == "es"
        r = client.post(
            "/v1/chat/completions",
            json={"model": "kratom-qa", "messages": body["messages"], "metadata": {"lang": "es"}},
        )
        assert r.status_code == 200 and reply_lang(r.json()["choices"][0]["message"]["content"]) == "es"
        r = client.post(
            "/v1/chat/completions",
            json={"model": "kratom-qa", "messages": body["messages"], "metadata": {"lang": "fr"}},
        )
        assert r.status_code == 400 and r.json()["error"]["param"] == "metadata.lang"
        assert client.post("/api/chat", json={**body, "lang": "fr"}).status_code == 422


@pytest.mark.parametrize(
    "question, wh",
    [
        ("¿Por qué la DEA no prohibió el kratom en 2016?", True),
        ("oi que la DEA lo iba a prohibir en el 2016, al final que paso con eso", True),
        ("¿y cómo lo tratan al bebé si nace con abstinencia?", True),
        ("Vi en las noticias que en Texas sacaron una alerta. ¿Qué fue lo que dijeron?", True),
        ("q es el 7-OH??", True),
        ("y pa qué lo usa la gente?", True),
        # "que" as a conjunction opens no question
        ("¿Es verdad que el kratom engancha como la heroína?", False),
        ("mi prima dice que es natural y que no le hace daño al bebe. eso es asi?", False),
        ("Vale, pero que aparezca en la autopsia, ¿significa que fue el kratom?", False),
        ("se puede tomar kratom con clonazepam?", False),
    ],
)
def test_a_spanish_wh_question_is_told_from_a_yes_no_question(question, wh):
    assert asks_wh_es(question) is wh


def test_a_yes_or_no_opener_is_told_from_a_statement():
    assert YES_NO_OPENER_ES_RE.match("Sí: la DEA anunció en 2016 que...")
    assert YES_NO_OPENER_ES_RE.match("Sí, en ratas: en el estudio de Kamble...")
    assert YES_NO_OPENER_ES_RE.match("No; según el informe de Domingo...")
    assert not YES_NO_OPENER_ES_RE.match("No hay ninguna cantidad segura de kratom, según la FDA.")
    assert not YES_NO_OPENER_ES_RE.match("Si alguien no despierta, llama al 911.")


def test_a_what_happened_question_is_not_led_by_a_yes(services, spanish_text):
    """ "¿Qué pasó al final con el plan de la DEA...?" led with "Sí: la DEA anunció en 2016 que planeaba...",
    the answer to another question; the section that says what happened (the DEA withdrew it) leads."""
    reply = ask(services, "¿qué pasó al final con el plan de la DEA de prohibir el kratom en 2016?")
    assert_spanish_answer(reply, spanish_text)
    assert reply.bottom_line and not YES_NO_OPENER_ES_RE.match(reply.bottom_line.text), reply.text
    assert "retiró" in reply.bottom_line.text, reply.text


# ---- spent spanish_blind6 review (round 9): repeats, padding, dangling bullets, gaps, definitions ----


def shown_lines(reply) -> list[str]:
    return [f.text for f in reply.cited]


@pytest.mark.parametrize(
    "turns",
    [
        # "the fast-heart-rate finding is said twice"
        ("¿El kratom le hace algo al corazón? Lei algo del QT en un foro y me quede con la duda.",),
        # "the 91-of-152 finding is stated twice back to back"
        (
            "¿Cómo saben los forenses si el kratom causó una muerte?",
            "O sea, ¿si sale positivo en la autopsia eso ya quiere decir que lo mató?",
        ),
        # "the muscle-pain fact twice"
        ("¿Qué síntomas da la abstinencia de kratom? pregunto en general",),
        # "the same Vicknasingam limitation is repeated"
        (
            "Me han dicho que el kratom va genial para el dolor crónico. ¿Hay estudios serios que lo demuestren?",
        ),
    ],
)
def test_a_spanish_answer_says_each_finding_once(services, spanish_text, turns):
    """Found on the spent spanish_blind6 review: bullets that restate the bottom line or each other
    (the English composer's near-contained check, bot/compose.py is_contained, now reads Spanish too;
    a document's same figures or same opening words are the same finding)."""
    reply = ask(services, *turns)
    assert_spanish_answer(reply, spanish_text)
    texts = shown_lines(reply)
    twin = {c.text: c.twin for c in services.spanish.chunks}  # each Spanish line's English line
    for words in (tokenize_es, lambda t: tokenize_en_stems(twin[t])):
        stems_of = [set(words(t)) for t in texts]
        for i, a in enumerate(stems_of):
            for j, b in enumerate(stems_of):
                if i != j:
                    assert not is_contained(a, [b]), (texts[i], texts[j])
    openings = [tuple(fold(t).split()[:6]) for t in texts]
    assert len(set(openings)) == len(openings), texts


def test_figures_and_openings_that_name_one_finding():
    assert _figures("los médicos forenses consideraron el kratom una causa en 91 de las 152 muertes") == {
        "91",
        "152",
    }
    assert _figures("Palamar estimó que el 0.7% lo había usado") == {"0.7"}
    assert _figures("llama o escribe al 988") == frozenset()  # a name, not a finding
    assert _figures("En 2019, 27,338 muertes") == {"27.338"}  # a year is no figure of a finding


def test_a_bullet_that_names_its_case_only_through_its_heading_is_not_shown(services, spanish_text):
    """ "La bebé pasó por una abstinencia..." answers "¿Qué le pasó a la bebé expuesta al kratom?"; as a
    bullet under a question about withdrawal in adults it dangles ("which baby?")."""
    assert DANGLING_ES_RE.search("La bebé pasó por una abstinencia después de nacer.")
    assert not DANGLING_ES_RE.search("La joven del informe de Case Reports in Pediatrics tomó el kratom.")
    reply = ask(
        services,
        "¿Qué síntomas tiene la abstinencia de kratom? Pregunto en general, mi vieja lo dejó hace un mes y ya "
        "está bien, pero quiero entender lo que le pasó.",
    )
    assert_spanish_answer(reply, spanish_text)
    assert not any(DANGLING_ES_RE.search(t) for t in [f.text for f in reply.facts]), reply.text


@pytest.mark.parametrize(
    ("question", "padding"),
    [
        # "most bullets are filler (a fact sheet exists, where kratom grows, how it is taken)"
        ("¿El kratom es legal en Estados Unidos a nivel federal? lo venden por todos lados", "vía oral"),
        # "padded with street names, how kratom is taken"
        (
            "¿El kratom crea adicción? Mi esposo dice que él lo deja cuando quiera, pero ya lleva un año dándole "
            "diario. Tranquilos, no es emergencia, solo quiero entender.",
            "nombres callejeros",
        ),
    ],
)
def test_bullets_that_name_none_of_the_question_are_not_padding(services, spanish_text, question, padding):
    """A bullet that shares only the subject (kratom, the DEA) with the question, none of what it asks,
    only fills an answer with fewer than two facts."""
    reply = ask(services, question)
    assert_spanish_answer(reply, spanish_text)
    assert not any(padding in t for t in shown_lines(reply)), reply.text


def test_the_closest_fact_beside_a_gap_is_an_agencys_general_one(services):
    """Found on spanish_blind6: "¿El kratom y la kava son lo mismo?" named the gap, then gave as the
    "closest general safety fact" a case report's "Sí: ... muertes causadas solo por la mitraginina"."""
    passages, draft = spanish_draft(
        services, "¿El kratom y la kava son lo mismo? ¿Cuál es la diferencia entre las dos plantas?"
    )
    assert draft.not_covered
    publishers = {p.doc_id: p.chunk.publisher for p in passages}
    for fact in draft.facts:
        assert not YES_NO_OPENER_ES_RE.match(fact.text), draft.facts
        doc = next(c.doc_id for c in draft.citations if c.number == fact.number)
        assert any(a in publishers[doc] for a in AGENCIES), (fact, publishers[doc])


@pytest.mark.parametrize(
    "question",
    [
        "qué onda, qué es el kratom?? lo vi en una tienda de vapes en Houston y no sé ni qué es",
        "Oye, ¿qué onda con el kratom? Lo vi en una tiendita de vapes y no sé pa' qué lo usan",
    ],
)
def test_what_kratom_is_is_answered_by_the_sections_that_say_it(services, spanish_text, question):
    """Found on spanish_questions and spanish_blind6: the shop words ranked "where it is sold" and "how it is
    taken" first; a question asking what kratom is leads with an agency's definition (a tree, its leaves)."""
    assert asks_what_kratom_is(question)
    reply = ask(services, question)
    assert_spanish_answer(reply, spanish_text)
    assert reply.bottom_line and "árbol" in reply.bottom_line.text, reply.text


def test_what_kratom_is_is_told_from_other_what_questions():
    assert asks_what_kratom_is("q es el kratom")
    assert not asks_what_kratom_is("¿Qué es el 7-OH?")
    assert not asks_what_kratom_is("¿qué es lo que hace el kratom en el cerebro?")


def test_spanglish_with_four_spanish_function_words_is_spanish():
    """Found on spanish_blind6: a Spanglish question got an English reply (7 English function words to 5
    Spanish ones)."""
    assert (
        detect_lang(
            "how long despues de empezar kratom can you get liver problems? lei que es como semanas, is that right?"
        )
        == "es"
    )
    assert detect_lang("is kratom legal en Texas?") == "en"
    assert detect_lang("what does 'no le dije a nadie' mean in English?") == "en"
