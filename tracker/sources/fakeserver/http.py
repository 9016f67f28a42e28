"""The HTTP plumbing of a fake: a threaded server on 127.0.0.1, its handler, lifecycle and dispatch.

A fake mixes in :class:`HttpApp` and supplies ``_serve_request`` (its API), ``_control_request``
(a ``/__fake/...`` operation) and ``_reply_json`` (how it writes JSON); its handler subclasses
:class:`FakeHandler` with its ``server_version`` and ``logger``.
"""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping
from urllib.parse import SplitResult, parse_qsl, urlsplit

CONTROL_PREFIX = "/__fake"


class FakeHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, handler, app: "HttpApp"):
        self.app = app
        super().__init__(address, handler)


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    logger = logging.getLogger("tracker.fakeserver")

    def log_message(self, format: str, *args: Any) -> None:
        self.logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self.server.app._dispatch(self, "GET")

    def do_POST(self) -> None:
        self.server.app._dispatch(self, "POST")

    def do_DELETE(self) -> None:
        self.server.app._dispatch(self, "DELETE")


class HttpApp:
    """Start, stop and route requests for a fake; ``NAME`` says which fake in errors."""

    NAME = "fake server"
    THREAD_NAME = "fakeserver"
    handler_class: type[FakeHandler] = FakeHandler

    def _init_http(self, port: int) -> None:
        self._port = port
        self._server: FakeHttpServer | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def start(self) -> Any:
        if self._server is None:
            self.stopping.clear()
            self._server = FakeHttpServer(("127.0.0.1", self._port), self.handler_class, self)
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=self.THREAD_NAME, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.stopping.set()  # wakes handlers holding a slow or timed-out request
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"the {self.NAME} is not running; call start()")
        return self._server.server_address[1]

    def _dispatch(self, handler: FakeHandler, method: str) -> None:
        url = urlsplit(handler.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            if url.path.startswith(CONTROL_PREFIX + "/"):
                self._serve_control(handler, method, url.path[len(CONTROL_PREFIX) + 1 :], params)
            else:
                self._serve_request(handler, method, url, params)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def _serve_request(self, handler: FakeHandler, method: str, url: SplitResult, params: dict[str, str]) -> None:
        raise NotImplementedError

    def _control_request(self, method: str, op: str, payload: Any, params: dict[str, str]) -> Any:
        raise NotImplementedError

    def _reply_json(self, handler: FakeHandler, status: int, payload: Any) -> None:
        raise NotImplementedError

    def _serve_control(self, handler: FakeHandler, method: str, op: str, params: dict[str, str]) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            result = self._control_request(method, op, json.loads(raw) if raw.strip() else None, params)
        except LookupError as exc:
            self._reply_json(handler, 404, {"error": str(exc)})
            return
        except (ValueError, TypeError) as exc:
            self._reply_json(handler, 400, {"error": str(exc)})
            return
        self._reply_json(handler, 200, result)


def write_response(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: Mapping[str, str]) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()


def header_number(value: Any) -> str:
    """A header's number as a server writes it: ``2``, not ``2.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


__all__ = ["CONTROL_PREFIX", "FakeHandler", "FakeHttpServer", "HttpApp", "header_number", "write_response"]
