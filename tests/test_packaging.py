from pathlib import Path

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
    import subprocess
    import sys

    code = "import sys, bot, bot.settings, bot.types; print('torch' in sys.modules, 'chromadb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_license_is_an_spdx_string_not_the_deprecated_table():
    """Issue #15: the `{text = ...}` table made setuptools print a deprecation block on every install."""
    import tomllib

    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"
