"""The command line, run as a user would run it."""

import os
import subprocess
import sys

from bot.settings import REPO_ROOT


def run(*args, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=REPO_ROOT,
        env={**os.environ, **(env or {})}, timeout=timeout,
    )


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
