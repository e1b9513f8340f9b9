"""Test helpers: free ports, waiting for servers, a conversation script."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from bot.settings import REPO_ROOT


def run_cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`kratom-qa <args>` in a fresh process from the checkout, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_responds(url: str, timeout: float = 60.0, proc=None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server process exited with code {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s: {last}")


class RunningServer:
    """`kratom-qa serve` in a subprocess on 127.0.0.1:<free port>, with its log captured."""

    def __init__(
        self,
        data_dir,
        env: dict | None = None,
        port: int | None = None,
        args: list[str] | None = None,
        wait: bool = True,
    ):
        import os
        import subprocess
        import sys

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = f"{data_dir}/server-{self.port}.log"
        self._log = open(self.log_path, "w")
        full_env = {
            **os.environ,
            "KQA_DATA_DIR": str(data_dir),
            "KQA_HOST": "127.0.0.1",
            "KQA_PORT": str(self.port),
            **(env or {}),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", *(args or [])],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
        if not wait:
            return
        try:
            wait_until_responds(self.url + "/healthz", timeout=180, proc=self.proc)
        except Exception:
            self.stop()
            raise

    def wait_for_log(self, text: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with code {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not in the server log within {timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        self._log.flush()
        return open(self.log_path).read()

    def stop(self) -> None:
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()


class ChatScript:
    """Conversation-shaped tests: chat.user("...").expect_route("emergency")."""

    def __init__(self, services):
        self.services = services
        self.messages: list[dict] = []
        self.reply = None

    def user(self, text: str) -> ChatScript:
        from bot.chat import answer_turn

        self.messages.append({"role": "user", "content": text})
        self.reply = answer_turn(self.messages, self.services)
        self.messages.append({"role": "assistant", "content": self.reply.text})
        return self

    def expect_route(self, route: str) -> ChatScript:
        rules = [
            r.public().get("rule") or r.public().get("suppressed")
            for r in self.reply.reasons
            if "rule" in r.public() or "suppressed" in r.public()
        ]
        assert self.reply.route == route, f"expected {route}, got {self.reply.route} (reasons: {rules})"
        return self

    def expect_text(self, *needles: str) -> ChatScript:
        for needle in needles:
            assert needle in self.reply.text, f"{needle!r} not in reply: {self.reply.text[:300]!r}"
        return self
