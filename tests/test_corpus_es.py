"""Spanish text of the corpus (corpus/es/): loading, validation and the audit's per-line reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.audit import audit_corpus
from bot.corpus_es import UNTRANSLATED, english_lines, load_spanish, usable_lines
from bot.corpus_loader import CorpusError, load_corpus
from bot.settings import REPO_ROOT
from tests.conftest import make_settings

CORPUS = REPO_ROOT / "corpus"
DOC = "cdc-naloxone"

SPANISH = {  # written for this test, faithful to cdc-naloxone's English lines
    "sections": [
        (
            "Resumen",
            "Los CDC describen la naloxona como un medicamento seguro que puede revertir una sobredosis de opioides si se da a tiempo.",
        ),
        (
            "¿Qué es la naloxona y cómo funciona?",
            "Según los CDC, la naloxona revierte rápido una sobredosis de opioides porque bloquea sus efectos.",
        ),
        (
            "¿Cómo reconozco una sobredosis de opioides?",
            "Los CDC mencionan pupilas muy pequeñas, quedarse dormido o desmayarse y respiración lenta y superficial.",
        ),
        (
            "¿Qué hago si creo que alguien tuvo una sobredosis?",
            "Los CDC aconsejan dar naloxona, pedir ayuda de emergencia y quedarse con la persona.",
        ),
    ],
    "key_facts": [
        "Según los CDC, la naloxona puede revertir una sobredosis de opioides como la heroína o el fentanilo si se da a tiempo.",
        "La naloxona viene en aerosol nasal y en inyección, y cualquiera puede usarla sin formación médica, según los CDC.",
        "Los CDC dicen que la naloxona no hace daño a alguien cuya sobredosis no se debe a opioides.",
        "Las señales incluyen pupilas pequeñas, no responder, respiración lenta y piel azulada o pálida, según los CDC.",
    ],
}


def spanish_corpus(tmp_path: Path, edit=None) -> Path:
    """A corpus of one real document (cdc-naloxone) with its Spanish file filled in; `edit(raw)` changes it."""
    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    (corpus / "es").mkdir()
    shutil.copy(CORPUS / "sources.yaml", corpus / "sources.yaml")
    shutil.copy(CORPUS / "documents" / f"{DOC}.md", corpus / "documents" / f"{DOC}.md")
    raw = yaml.safe_load((CORPUS / "es" / f"{DOC}.yaml").read_text(encoding="utf-8"))
    raw["written_by"], raw["checked_by"] = "test", "test reader"
    for sec, (heading_es, line) in zip(raw["sections"], SPANISH["sections"]):
        sec["heading_es"], sec["bottom_line_es"] = heading_es, line
    for fact, line in zip(raw["key_facts"], SPANISH["key_facts"]):
        fact["es"] = line
    if edit:
        edit(raw)
    (corpus / "es" / f"{DOC}.yaml").write_text(
        yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return corpus


def _audit(tmp_path: Path, corpus: Path) -> list[str]:
    return audit_corpus(make_settings(tmp_path / "data", corpus_dir=corpus))


def test_every_real_spanish_file_pairs_the_current_english_lines(corpus_docs):
    """The skeletons were generated from the documents: each pairs exactly its document's lines."""
    spanish = load_spanish(CORPUS, corpus_docs)
    assert set(spanish) == {d.id for d in corpus_docs}
    for doc in corpus_docs:
        eng = english_lines(doc)
        lines = spanish[doc.id].lines
        assert [ln.en for ln in lines if ln.kind == "bottom_line"] == [s for _, s in eng.sections], doc.id
        assert [ln.en for ln in lines if ln.kind == "key_fact"] == list(eng.key_facts), doc.id


def test_a_complete_checked_translation_audits_clean(tmp_path):
    corpus = spanish_corpus(tmp_path)
    assert [p for p in _audit(tmp_path, corpus) if "/es/" in p] == []
    docs = load_corpus(corpus)
    sp = load_spanish(corpus, docs)[DOC]
    assert len(usable_lines(sp, docs[0])) == len(sp.lines) == 8


def test_a_spanish_file_for_no_document_is_refused_by_name(tmp_path):
    def rename(raw):
        raw["id"] = "no-such-document"

    corpus = spanish_corpus(tmp_path, rename)
    with pytest.raises(CorpusError, match=r"cdc-naloxone\.yaml: field 'id'.*no-such-document"):
        load_spanish(corpus, load_corpus(corpus))
    assert "no-such-document" in _audit(tmp_path, corpus)[0]


@pytest.mark.parametrize(
    "field,value,why", [("lang", "en", "lang"), ("sections", "text", "sections"), ("extra", 1, "extra")]
)
def test_a_malformed_spanish_file_is_refused_naming_the_field(tmp_path, field, value, why):
    def spoil(raw):
        raw[field] = value

    corpus = spanish_corpus(tmp_path, spoil)
    with pytest.raises(CorpusError, match=f"field '{why}'"):
        load_spanish(corpus, load_corpus(corpus))


def test_a_stale_translation_is_reported_per_line_and_never_shown(tmp_path):
    corpus = spanish_corpus(tmp_path)
    doc_path = corpus / "documents" / f"{DOC}.md"
    old = "CDC says naloxone will not harm someone whose overdose is not caused by opioids."
    doc_path.write_text(
        doc_path.read_text(encoding="utf-8").replace(
            old, "CDC says naloxone does not harm a person whose overdose is not from opioids."
        ),
        encoding="utf-8",
    )
    problems = [p for p in _audit(tmp_path, corpus) if "/es/" in p]
    assert any("key_facts[2]: stale translation" in p for p in problems), problems
    assert any("has no Spanish pairing" in p and "does not harm a person" in p for p in problems), problems
    docs = load_corpus(corpus)
    shown = usable_lines(load_spanish(corpus, docs)[DOC], docs[0])
    assert SPANISH["key_facts"][2] not in [ln.es for ln in shown] and len(shown) == 7


def test_a_number_the_english_line_lacks_is_an_error(tmp_path):
    def add_number(raw):
        raw["key_facts"][0]["es"] = "Según los CDC, la naloxona revierte 9 de cada 10 sobredosis de opioides."

    corpus = spanish_corpus(tmp_path, add_number)
    problems = _audit(tmp_path, corpus)
    assert any("key_facts[0]: number(s) not in the English line: 9, 10" in p for p in problems), problems
    docs = load_corpus(corpus)
    assert len(usable_lines(load_spanish(corpus, docs)[DOC], docs[0])) == 7


def test_a_dose_like_amount_in_spanish_is_an_error(tmp_path):
    def add_amount(raw):
        raw["key_facts"][1]["es"] = (
            "La naloxona viene en aerosol nasal; algunos toman dos cucharaditas de kratom."
        )

    corpus = spanish_corpus(tmp_path, add_amount)
    assert any(
        "key_facts[1]: dose-like amount" in p and "dos cucharaditas" in p for p in _audit(tmp_path, corpus)
    )


def test_english_lines_without_spanish_text_are_reported(tmp_path):
    def blank(raw):
        raw["key_facts"][3]["es"] = ""
        raw["sections"][2]["bottom_line_es"] = ""

    corpus = spanish_corpus(tmp_path, blank)
    problems = [p for p in _audit(tmp_path, corpus) if UNTRANSLATED in p]
    assert (
        len(problems) == 2
        and any("key_facts[3]" in p for p in problems)
        and any("sections[2]" in p for p in problems)
    )


def test_a_missing_spanish_file_and_an_unchecked_one_are_reported(tmp_path):
    def uncheck(raw):
        raw["checked_by"] = ""

    corpus = spanish_corpus(tmp_path, uncheck)
    assert any("checked_by is empty" in p for p in _audit(tmp_path, corpus))
    (corpus / "es" / f"{DOC}.yaml").unlink()
    assert any("no Spanish file for document cdc-naloxone" in p for p in _audit(tmp_path, corpus))
