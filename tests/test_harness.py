"""Issue #17: the ready-made promptfoo and inspect-ai configs in examples/ pass against a real
`kratom-qa serve --eval`, each tool installed into a throwaway location.

Both installs download packages, so this runs in CI or with KQA_HARNESS=1; otherwise it skips
with a loud reason (as it does when npm is missing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT
from tests.conftest import IN_CI, require
from tests.helpers import RunningServer

pytestmark = [pytest.mark.harness, pytest.mark.slow]

PROMPTFOO = "promptfoo@0.121"
INSPECT = "inspect-ai==0.3.285"
CASES = 20  # examples/promptfoo/cases.yaml and the inspect task's sample count


@pytest.fixture(scope="module")
def eval_server(tmp_path_factory, services):
    require(
        IN_CI or os.environ.get("KQA_HARNESS") == "1",
        "the harness test downloads promptfoo and inspect-ai; set KQA_HARNESS=1 to run it",
    )
    srv = RunningServer(
        tmp_path_factory.mktemp("harness"),
        args=["--eval"],
        env={"KQA_DATA_DIR": str(services.settings.data_dir)},
    )
    yield srv
    srv.stop()


def run(cmd: list[str], env: dict, cwd: Path, timeout: int = 1200) -> subprocess.CompletedProcess:
    out = subprocess.run(
        cmd, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    return out


def test_promptfoo_stock_openai_provider_asserts_routes(eval_server, tmp_path):
    npm = shutil.which("npm")
    require(npm is not None, "npm is not installed: cannot install promptfoo for the harness test")
    install = run([npm, "install", "--no-audit", "--no-fund", PROMPTFOO], {}, tmp_path)
    assert install.returncode == 0, install.stderr[-2000:]
    results = tmp_path / "results.json"
    out = run(
        [
            str(tmp_path / "node_modules" / ".bin" / "promptfoo"),
            "eval",
            "--no-cache",
            "--no-progress-bar",
            "-c",
            str(REPO_ROOT / "examples" / "promptfoo" / "promptfooconfig.yaml"),
            "-o",
            str(results),
        ],
        {
            "KQA_URL": eval_server.url,
            "PROMPTFOO_DISABLE_TELEMETRY": "1",
            "PROMPTFOO_DISABLE_UPDATE": "1",
            "PROMPTFOO_CONFIG_DIR": str(tmp_path / "pf-config"),
            "OPENAI_API_KEY": "unused",
        },
        tmp_path,
    )
    assert results.is_file(), out.stdout[-3000:] + out.stderr[-3000:]
    stats = json.loads(results.read_text())["results"]["stats"]
    assert (stats["successes"], stats["failures"], stats.get("errors", 0)) == (CASES, 0, 0), out.stdout[
        -3000:
    ]


def test_inspect_task_scores_routes(eval_server, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = run([str(python), "-m", "pip", "install", "-q", INSPECT, "openai"], {}, tmp_path)
    assert install.returncode == 0, install.stderr[-2000:]
    logs = tmp_path / "logs"
    out = run(
        [
            str(env_dir / "bin" / "inspect"),
            "eval",
            "examples/inspect/kratom_routes.py",  # inspect wants it relative
            "--model",
            "openai/kratom-qa",
            "--log-dir",
            str(logs),
            "--log-format",
            "json",
            "--display",
            "plain",
        ],
        {"OPENAI_BASE_URL": eval_server.url + "/v1", "OPENAI_API_KEY": "unused"},
        REPO_ROOT,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    log = json.loads(next(logs.glob("*.json")).read_text())
    assert log["status"] == "success", log.get("error")
    scores = [s["scores"]["route_matches"]["value"] for s in log["samples"]]
    assert scores == ["C"] * CASES, [
        (s["id"], s["scores"]) for s in log["samples"] if s["scores"]["route_matches"]["value"] != "C"
    ]
