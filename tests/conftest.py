"""Real parts, loaded once: the bundled MiniLM encoder, real Chroma stores, real files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bot.offline  # noqa: F401
from bot.settings import REPO_ROOT, Settings
from tests.helpers import free_port, wait_until_responds

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip loudly outside CI; in CI a missing prerequisite is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI requires this: {reason}")
    pytest.skip(f"SKIPPED (would fail in CI): {reason}")


def make_settings(tmp: Path, **overrides) -> Settings:
    return Settings(_env_file=None, data_dir=tmp, **overrides)


@pytest.fixture(scope="session")
def encoder():
    from bot.embedding import load_encoder

    return load_encoder("")


@pytest.fixture(scope="session")
def corpus_docs():
    from bot.corpus_loader import load_corpus

    return load_corpus(REPO_ROOT / "corpus")


@pytest.fixture(scope="session")
def services(tmp_path_factory, encoder):
    """Services over an index built from the real corpus, shared by the session."""
    from bot.ingest import ingest
    from bot.services import Services

    s = Services(make_settings(tmp_path_factory.mktemp("kqa")), encoder=encoder)
    ingest(s.settings, s.encoder, s.index, progress=False)
    return s


@pytest.fixture()
def tmp_settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on 127.0.0.1 with a temporary path."""
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    require(exe is not None, "the `chroma` CLI (from chromadb) is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = open(path / "server.log", "w")
    proc = subprocess.Popen(
        [exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path / "data")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        wait_until_responds(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=60, proc=proc)
        yield ("127.0.0.1", port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def server(services):
    """A real `kratom-qa serve` on loopback, over the session's index (already built)."""
    from tests.helpers import RunningServer

    srv = RunningServer(services.settings.data_dir, env={"KQA_RATE_LIMIT_PER_MINUTE": "0"})
    yield srv
    srv.stop()
