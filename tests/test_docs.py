"""Docs match the code: settings table, CLI commands, two commands, CI."""

import re

from bot.cli import build_parser
from bot.settings import REPO_ROOT, Settings

README = (REPO_ROOT / "README.md").read_text()


def test_every_setting_is_in_the_readme_table():
    for name in Settings.model_fields:
        assert f"`KQA_{name.upper()}`" in README, f"KQA_{name.upper()} missing from README"


def test_every_cli_command_in_the_readme_exists():
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    used = set(re.findall(r"kratom-qa (\w+)", README))
    assert used <= commands, used - commands
    assert {"ingest", "ask", "serve", "eval", "settings", "corpus"} <= commands


def test_readme_gives_exactly_the_two_make_commands_and_ci_runs_the_test_one():
    block = README.split("## Two commands", 1)[1].split("```", 2)[1]
    lines = [
        ln.split("#")[0].strip()
        for ln in block.splitlines()
        if ln.split("#")[0].strip() and not ln.startswith("bash")
    ]
    assert lines == ["make chat", "make test"]
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_makefile_installs_cpu_torch_first():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "torch==$(TORCH_VERSION)" in makefile and "TORCH_VERSION ?= 2.13.0" in makefile


def test_examples_readme_commands_run_as_written():
    """Issue #15: no bare `kratom-qa` (not on PATH after `make chat`), one server per code block."""
    import re

    text = (REPO_ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    assert blocks
    for block in blocks:
        for line in block.splitlines():
            assert not re.search(r"(?:^|[\s=;&|])kratom-qa\s", line.split("#")[0]), line
        assert block.count("kratom-qa serve") <= 1, block
