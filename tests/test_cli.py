"""The command line, run as a user would run it."""

from bot.settings import REPO_ROOT
from tests.helpers import run_cli

run = run_cli


def test_ask_prints_fda_passages_with_citation(services):
    env = {"KQA_DATA_DIR": str(services.settings.data_dir)}
    out = run("ask", "Is kratom approved by the FDA?", env=env)
    assert out.returncode == 0, out.stderr
    assert "U.S. Food and Drug Administration" in out.stdout
    assert "https://www.fda.gov/" in out.stdout


def test_ask_numbers_its_passages_as_the_answer_cites_them(services):
    from bot.chat import answer_turn

    question = "Can kratom damage your liver?"
    reply = answer_turn([{"role": "user", "content": question}], services)
    numbers = {c.doc_id: c.number for c in reply.citations}
    expected = [f"[{numbers.get(p.doc_id, '-')}] {p.chunk.title} — {p.chunk.heading}" for p in reply.passages]
    out = run("ask", question, env={"KQA_DATA_DIR": str(services.settings.data_dir)})
    assert out.returncode == 0, out.stderr
    shown = [ln for ln in out.stdout.split("Passages retrieved:", 1)[1].splitlines() if ln.startswith("[")]
    assert shown == expected


def test_ask_json_prints_the_api_reply(services):
    import json

    from bot.chat import answer_turn
    from bot.render import as_json

    question = "Is kratom approved by the FDA?"
    out = run("ask", "--json", question, env={"KQA_DATA_DIR": str(services.settings.data_dir)})
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    served = as_json(answer_turn([{"role": "user", "content": question}], services))
    assert set(printed) == set(served)
    for key in ("route", "answer", "bottom_line", "facts", "citations", "resources", "reasons", "passages"):
        assert printed[key] == served[key], key


def test_bad_corpus_is_refused_with_the_file_name(tmp_path):
    bad = REPO_ROOT / "tests" / "data" / "bad_corpora" / "host_not_allowed"
    out = run("ingest", env={"KQA_DATA_DIR": str(tmp_path), "KQA_CORPUS_DIR": str(bad)})
    assert out.returncode == 2
    assert "bad-doc.md" in out.stderr and "url" in out.stderr
    assert "Traceback" not in out.stderr


def test_invalid_setting_stops_start_up_by_name(tmp_path):
    out = run("settings", env={"KQA_TOP_K": "zero"})
    assert out.returncode == 2 and "KQA_TOP_K" in out.stderr


def test_settings_prints_every_setting():
    from bot.settings import Settings

    out = run("settings")
    assert out.returncode == 0
    for name in Settings.model_fields:
        assert f"KQA_{name.upper()}" in out.stdout


# ---- serve start-up (issue #15) ----------------------------------------------------------


def test_serve_on_a_busy_port_says_so_before_loading_and_names_the_fix(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run("serve", "--port", str(port), env={"KQA_DATA_DIR": str(tmp_path)})
    assert out.returncode == 2, out.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in out.stderr
    assert "--port" in out.stderr and "KQA_PORT=" in out.stderr
    assert "Loading" not in out.stderr and "chat on http" not in out.stderr  # nothing was loaded
    assert not (tmp_path / "chroma").exists()  # nor the index opened
    assert "Traceback" not in out.stderr


def test_serve_prints_each_step_and_the_url_only_once_listening(services):
    """When the URL line appears, the server already answers (no retry)."""
    import httpx

    from tests.helpers import RunningServer

    srv = RunningServer(services.settings.data_dir, wait=False)
    try:
        srv.wait_for_log("chat on http://", timeout=300)
        assert httpx.get(srv.url + "/healthz", timeout=10).status_code == 200
        log = srv.log()
        steps = [
            "Loading the embedding model",
            "Checking the index",
            "Loading the index and the router model",
            "Loading the answer composer",
            "Loading the Spanish lines",
            "Building the web chat",
            "Ready in",
        ]
        positions = [log.index(s) for s in steps]
        assert positions == sorted(positions), log
        assert log.count("done in") == len(steps) - 1, log
    finally:
        srv.stop()


def test_missing_corpus_folder_is_named_at_once_before_the_model_loads(tmp_path):
    out = run("ingest", env={"KQA_DATA_DIR": str(tmp_path), "KQA_CORPUS_DIR": "/nope"})
    assert out.returncode == 2
    assert "the corpus folder /nope does not exist (KQA_CORPUS_DIR)" in out.stderr
    assert "sources.yaml" not in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "chroma").exists()  # nothing was opened or loaded


def test_cli_warns_about_a_misspelt_variable():
    out = run("settings", env={"KQA_PROT": "7861"})
    assert out.returncode == 0
    assert "warning: KQA_PROT is not a kratom-qa setting and is ignored; did you mean KQA_PORT?" in out.stderr


def test_ask_numbers_its_passages_like_the_answers_citations(services):
    import re

    out = run("ask", "Can kratom damage your liver?", env={"KQA_DATA_DIR": str(services.settings.data_dir)})
    assert out.returncode == 0, out.stderr
    answer, passages = out.stdout.split("Passages retrieved", 1)
    listed = re.findall(r"^\[(\d+)\] (.+?) — ", passages, re.MULTILINE)
    assert listed, passages
    for n, title in listed:  # passage [n] is the document the answer cites as [n]
        source = next((ln for ln in answer.splitlines() if ln.startswith(f"{n}. ")), "")
        assert f'"{title}"' in source, (n, title, source)
