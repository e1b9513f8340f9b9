"""The same code path against a real `chroma run` server on loopback."""

import pytest

from bot.index import open_index
from bot.ingest import ingest
from bot.retrieval import Retriever
from tests.conftest import make_settings

pytestmark = pytest.mark.server


def test_ingest_and_query_through_a_chroma_server(tmp_path, chroma_server, encoder):
    host, port = chroma_server
    settings = make_settings(tmp_path, chroma_host=host, chroma_port=port, collection="kqa-server-test")
    assert settings.uses_server
    index = open_index(settings)
    report = ingest(settings, encoder, index, progress=False)
    assert report.documents >= 5 and index.stats()["chunks"] == report.chunks
    assert not (tmp_path / "chroma").exists()  # nothing was written to an embedded store
    question = "Is kratom approved by the FDA?"
    passages = Retriever(index, encoder).search(question, encoder.encode_one(question))
    assert passages and passages[0].chunk.publisher == "U.S. Food and Drug Administration"
    again = ingest(settings, encoder, open_index(settings), progress=False)
    assert again.unchanged == report.documents and not again.switched
