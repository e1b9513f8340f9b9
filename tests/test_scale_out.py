"""Two app processes against one Chroma server give the same answers."""

import httpx
import pytest

from bot.index import open_index
from bot.ingest import ingest
from tests.conftest import make_settings
from tests.helpers import RunningServer

pytestmark = [pytest.mark.server, pytest.mark.slow]

QUESTIONS = [
    "Can kratom damage your liver?",
    "Is kratom legal in the US?",
    "how many grams should I take",
    "my friend took kratom and won't wake up",
    "¿el kratom causa adicción?",
]


def test_two_app_processes_share_one_chroma_server(tmp_path, chroma_server, encoder):
    host, port = chroma_server
    settings = make_settings(tmp_path / "ingest", chroma_host=host, chroma_port=port, collection="kqa-scale")
    ingest(settings, encoder, open_index(settings), progress=False)
    env = {
        "KQA_CHROMA_HOST": host,
        "KQA_CHROMA_PORT": str(port),
        "KQA_COLLECTION": "kqa-scale",
        "KQA_RATE_LIMIT_PER_MINUTE": "0",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = RunningServer(tmp_path / "a", env=env)
    try:
        b = RunningServer(tmp_path / "b", env=env)
        try:
            for q in QUESTIONS:
                body = {"messages": [{"role": "user", "content": q}]}
                ra = httpx.post(a.url + "/api/chat", json=body, timeout=60).json()
                rb = httpx.post(b.url + "/api/chat", json=body, timeout=60).json()
                assert ra == rb, q
            health = httpx.get(a.url + "/healthz").json()
            assert health["chunks"] > 0 and health == httpx.get(b.url + "/healthz").json()
            assert not (
                tmp_path / "a" / "chroma"
            ).exists()  # served from the Chroma server, not a local store
        finally:
            b.stop()
    finally:
        a.stop()
