"""Packaging: the import name is ours, the console script is declared, and a wheel install works:
built from this checkout, installed into a fresh venv outside it, `kratom-qa ask` answers from a
small corpus. Nothing downloads: the venv reaches the dependencies already installed beside the
running interpreter by a path line (no `.pth` of theirs runs, so the editable install stays out)."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT


def test_guardrails_imports_from_this_repo_not_guardrails_ai():
    import guardrails

    assert Path(guardrails.__file__).resolve().parent == REPO_ROOT / "guardrails"


def test_console_script_is_declared():
    import tomllib

    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert meta["project"]["scripts"]["kratom-qa"] == "bot.cli:main"
    assert "guardrails-ai" not in " ".join(meta["project"]["dependencies"])


def test_importing_bot_loads_no_model():
    code = (
        "import sys, bot, bot.settings, bot.types; print('torch' in sys.modules, 'chromadb' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


SMALL_CORPUS = ("fda-and-kratom.md", "fda-kratom-advisory-2017.md", "livertox-kratom.md")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the sources, so the build leaves nothing in the checkout."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, src / name)
    for package in ("bot", "guardrails"):
        shutil.copytree(REPO_ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return next(out.glob("kratom_qa-*.whl"))


@pytest.mark.slow
def test_the_wheel_carries_what_the_policy_and_the_router_read(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (
        "guardrails/policy.yaml",
        "guardrails/floor.yaml",
        "guardrails/model/router.json",
        "guardrails/model/router.safetensors",
        "guardrails/model/card.md",
        "bot/render.py",
        "bot/eval/report/report.html",
    ):
        assert path in names, path


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_guardrails_read_nothing_under_tests():
    import yaml

    for path in (REPO_ROOT / "guardrails").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not [t for t in ("/tests", '"tests"', "'tests'") if t in text], path
    for path in (REPO_ROOT / "guardrails").glob("*.yaml"):
        values = _strings(yaml.safe_load(path.read_text(encoding="utf-8")))
        assert not [v for v in values if "tests/" in v], path


@pytest.mark.slow
def test_installed_wheel_answers_from_a_small_corpus(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},  # a PYTHONPATH checkout
    )  # with a kratom_qa.egg-info would make pip skip the install as "already satisfied"

    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "corpus" / "sources.yaml", corpus / "sources.yaml")
    for name in SMALL_CORPUS:
        shutil.copy(REPO_ROOT / "corpus" / "documents" / name, corpus / "documents" / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KQA_", "PYTHON"))}
    env |= {"KQA_CORPUS_DIR": str(corpus), "KQA_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    where = subprocess.run(
        [str(py), "-c", "import bot, guardrails; print(bot.__file__); print(guardrails.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,
    ).stdout.split()
    assert all(Path(p).is_relative_to(env_dir) for p in where), where  # the wheel's code, not the checkout's

    out = subprocess.run(
        [str(env_dir / "bin" / "kratom-qa"), "ask", "--json", "Is kratom approved by the FDA?"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    reply = json.loads(out.stdout)
    assert reply["route"] == "answer" and reply["citations"], reply
    assert any(r.get("source") == "model" for r in reply["reasons"]), (
        "the trained router did not load from the wheel"
    )
    assert {c["doc_id"] for c in reply["citations"]} <= {Path(n).stem for n in SMALL_CORPUS}

    render = (
        "from bot.eval import html_report, summarise; "
        "s = summarise([], []).as_dict(); "
        "print(html_report('x.jsonl', {'summary': s, 'by_category': {}, 'failures': []}))"
    )
    page = subprocess.run(
        [str(py), "-c", render], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert page.returncode == 0, page.stderr[-2000:]  # the eval report's template ships in the wheel
    assert "<h1>Evaluation: x.jsonl</h1>" in page.stdout and "<table class='heat'>" in page.stdout


def test_license_is_an_spdx_string_not_the_deprecated_table():
    """Issue #15: the `{text = ...}` table made setuptools print a deprecation block on every install."""
    import tomllib

    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"
