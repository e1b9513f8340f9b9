from pathlib import Path

import pytest

from bot.corpus_loader import CorpusError, load_corpus
from bot.settings import REPO_ROOT

BAD = Path(__file__).parent / "data" / "bad_corpora"
RULES = sorted(p.name for p in BAD.iterdir() if p.is_dir())


def test_real_corpus_loads_with_citations(corpus_docs):
    assert len(corpus_docs) >= 5
    for doc in corpus_docs:
        assert doc.title and doc.publisher and doc.url.startswith("https://")
        assert doc.year.isdigit()
        if doc.source_type == "peer_reviewed":
            assert doc.doi or doc.pmid


def test_real_corpus_has_the_foundation_publishers(corpus_docs):
    types = {d.source_type for d in corpus_docs}
    assert {"fda", "cdc", "nih", "peer_reviewed"} <= types
    assert sum(d.source_type == "peer_reviewed" for d in corpus_docs) >= 2


@pytest.mark.parametrize("rule", RULES)
def test_broken_corpus_is_refused_naming_file_and_field(rule):
    expect = dict(line.split(": ", 1) for line in (BAD / rule / "EXPECT").read_text().splitlines())
    with pytest.raises(CorpusError) as err:
        load_corpus(BAD / rule)
    assert Path(err.value.file).name == expect["bad_file"]
    assert err.value.field == expect["field"]
    assert expect["bad_file"] in str(err.value)


def test_every_rejection_rule_has_a_broken_corpus():
    assert set(RULES) >= {
        "unknown_source_type",
        "host_not_allowed",
        "missing_citation",
        "missing_title",
        "malformed_date",
        "duplicate_id",
        "empty_body",
        "malformed_claims",
    }


def test_missing_sources_file_is_a_clear_error(tmp_path):
    (tmp_path / "documents").mkdir()
    with pytest.raises(CorpusError, match="sources.yaml is missing"):
        load_corpus(tmp_path)


def test_subdomains_of_allowed_hosts_are_allowed():
    from bot.corpus_loader import load_sources

    nih = load_sources(REPO_ROOT / "corpus")["nih"]
    assert nih.allows("livertox.nih.gov") and nih.allows("www.ncbi.nlm.nih.gov")
    assert not nih.allows("nih.gov.evil.example") and not nih.allows("notnih.gov")
