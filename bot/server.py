"""Run the app under uvicorn with this project's connection policy.

- `X-Forwarded-For` is believed only from the proxies named in `KQA_TRUSTED_PROXIES` (uvicorn
  otherwise trusts it from loopback, which lets any local client pick its rate-limit key).
- Idle keep-alive connections close after 5 s; a connection that has not sent a complete
  request head within `KQA_REQUEST_TIMEOUT_SECONDS` (at connect, or after its last reply) is
  closed, so idle or half-sent connections cannot pile up. Slow bodies are the middleware's
  job (bot/api.py).
"""

from __future__ import annotations

import errno
from collections.abc import Callable

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from bot.settings import Settings

KEEP_ALIVE_SECONDS = 5


def header_timeout_protocol(seconds: float) -> type:
    """uvicorn's HTTP protocol, closing connections that leave a request head unfinished."""

    class HeaderTimeoutProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        _head_timer = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            self._head_timer = self.loop.call_later(seconds, self._expire)

        def _expire(self) -> None:
            waiting_for_head = self.cycle is None or self.cycle.response_complete
            if waiting_for_head and not self.transport.is_closing():
                self.transport.close()

    return HeaderTimeoutProtocol


def port_problem(host: str, port: int) -> str | None:
    """Why `serve` cannot listen on host:port (checked before the slow loading), or None."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return f"cannot listen on {host}:{port}: {exc} (KQA_HOST / --host)"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no conflict
        try:
            s.bind(address)
        except OSError as exc:
            other = port + 1 if port < 65535 else 7860
            why = (
                "is already in use (another `kratom-qa serve`?)"
                if exc.errno == errno.EADDRINUSE
                else f"cannot be used ({exc.strerror})"
            )
            return f"port {port} on {host} {why}; pick another with `--port {other}` or `KQA_PORT={other}`"
    return None


def run(app, settings: Settings, on_ready: Callable[[Callable[[], None]], None] | None = None) -> bool:
    """Serve until interrupted; `on_ready(stop)` runs once the socket is listening (not before);
    `stop()` ends the server from any thread. False when the server never started (uvicorn has
    logged why)."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started and on_ready is not None:
                on_ready(self.stop)

        def stop(self) -> None:
            self.should_exit = True

    trusted = settings.trusted_proxies
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        http=header_timeout_protocol(settings.request_timeout_seconds),
    )
    server = Server(config)
    server.run()
    return bool(server.started)
