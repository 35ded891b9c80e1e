"""A tiny threaded loopback HTTP server shared by the emulators."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients killed mid-request (the crash tests do that on purpose) reset connections.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class Request:
    def __init__(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        self.method = method
        self.path = parts.path
        self.query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        self.headers = handler.headers
        length = int(handler.headers.get("Content-Length") or 0)
        self.body = handler.rfile.read(length) if length else b""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.body.decode()).items()}


class Response:
    def __init__(
        self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}


Handler = Callable[[Request], Response]


class ThreadedServer:
    """Serves a request handler class on 127.0.0.1 (a free port) from a daemon thread."""

    def __init__(self, handler_class: type[BaseHTTPRequestHandler]) -> None:
        self._server = _QuietServer(("127.0.0.1", 0), handler_class)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class LoopbackServer(ThreadedServer):
    """Serves a JSON ``handler`` on 127.0.0.1 (a free port) from a daemon thread."""

    def __init__(self, handler: Handler) -> None:
        app = handler

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without this, Nagle's algorithm and
            # delayed ACKs add ~40 ms to every keep-alive request.
            disable_nagle_algorithm = True

            def _serve(self, method: str) -> None:
                response = app(Request(self, method))
                payload = b"" if response.body is None else json.dumps(response.body).encode()
                self.send_response(response.status)
                if payload:
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._serve("PUT")

            def do_DELETE(self) -> None:  # noqa: N802
                self._serve("DELETE")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output clean

        super().__init__(_RequestHandler)


EmulatorT = TypeVar("EmulatorT", bound="LoopbackEmulator")


class LoopbackEmulator:
    """The lifecycle every test double shares: ``start()``/``stop()`` or ``with``, serving
    from the :class:`ThreadedServer` a subclass sets as ``_server``."""

    _server: ThreadedServer

    def start(self: EmulatorT) -> EmulatorT:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self: EmulatorT) -> EmulatorT:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._server.url
