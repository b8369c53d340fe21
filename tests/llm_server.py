"""A small OpenAI-compatible chat-completions server on loopback, for tests.

It answers ``POST /v1/chat/completions`` from a script of replies the test
sets, and records every request, so a test can check what a client sends and
how it copes with errors and malformed answers. It does no language modelling.

A reply in the script is one of:
- a ``dict`` or ``list``: sent as JSON in ``choices[0].message.content``;
- a ``str``: sent verbatim as the message content (e.g. broken JSON);
- ``("status", code)``: an HTTP error with that status;
- ``("raw", bytes)``: the whole HTTP body, verbatim (e.g. not a chat completion).
When the script runs out, ``default`` is used.

Load it from a test directory with ``load_llm_server()`` in that directory's
conftest (tests are not a package, see tests/extract/conftest.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ChatServer:
    """State shared with the handler: the reply script and the request log."""

    url: str = ""
    script: list[Any] = field(default_factory=list)
    default: Any = field(default_factory=lambda: {"facts": [], "entities": []})
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, *replies: Any) -> None:
        """Queue replies for the next requests, in order."""
        with self.lock:
            self.script.extend(replies)

    def _next(self) -> Any:
        with self.lock:
            return self.script.pop(0) if self.script else self.default


def _handler(state: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"unparsed": raw.decode(errors="replace")}
            state.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, b'{"error": {"message": "not found"}}')
                return
            reply = state._next()
            if isinstance(reply, tuple) and reply[0] == "status":
                self._send(int(reply[1]), json.dumps({"error": {"message": f"scripted {reply[1]}"}}).encode())
                return
            if isinstance(reply, tuple) and reply[0] == "raw":
                self._send(200, reply[1])
                return
            content = reply if isinstance(reply, str) else json.dumps(reply)
            envelope = {
                "id": f"chatcmpl-{len(state.requests)}",
                "object": "chat.completion",
                "model": body.get("model", ""),
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                ],
            }
            self._send(200, json.dumps(envelope).encode())

    return Handler


@contextmanager
def serve() -> Iterator[ChatServer]:
    """Run the server on a free loopback port for the duration of the block."""
    state = ChatServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
