"""The OpenAI-compatible encoder against a local test server the test starts.

The server is a small OpenAI-compatible stand-in on loopback that returns
deterministic vectors; it checks the protocol (request shape, batching, auth,
retries, errors), not embedding quality.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import numpy as np
import pytest

from hippodex import EncoderError, Memory
from hippodex.encode.openai import OpenAIEncoder

DIM = 8


def _vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b - 128.0 for b in digest[:DIM]]


class _Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict]] = []
    fail_next = 0
    mode = "ok"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        cls.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if cls.fail_next:
            cls.fail_next -= 1
            self.send_response(503)
            self.end_headers()
            return
        if cls.mode == "garbage":
            payload = b'{"unexpected": true}'
        else:
            data = [{"index": i, "embedding": _vector(t)} for i, t in enumerate(body["input"])]
            payload = json.dumps({"data": list(reversed(data)), "model": body["model"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.requests, _Handler.fail_next, _Handler.mode = [], 0, "ok"
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_embeds_in_order_batches_and_normalises(server: str) -> None:
    enc = OpenAIEncoder(server, model="test-embed", api_key="sk-test", batch_size=3)
    assert enc.dim == DIM and enc.name == "openai:test-embed"
    texts = [f"text {i}" for i in range(7)]
    out = enc.encode(texts)
    assert out.shape == (7, DIM)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0)
    expected = np.asarray(_vector("text 5"), dtype=np.float32)
    assert np.allclose(out[5], expected / np.linalg.norm(expected), atol=1e-6)
    calls = [r for r in _Handler.requests if r["input"] != ["dimension probe"]]
    assert [len(r["input"]) for r in calls] == [3, 3, 1]
    assert all(r["path"] == "/v1/embeddings" and r["auth"] == "Bearer sk-test" for r in calls)


def test_retries_server_errors(server: str) -> None:
    enc = OpenAIEncoder(server, model="m", dim=DIM, retries=2)
    _Handler.fail_next = 2
    assert enc.encode(["x"]).shape == (1, DIM)


def test_gives_up_with_a_clear_error(server: str) -> None:
    enc = OpenAIEncoder(server, model="m", dim=DIM, retries=0)
    _Handler.fail_next = 1
    with pytest.raises(EncoderError, match="HTTP 503"):
        enc.encode(["x"])
    _Handler.mode = "garbage"
    with pytest.raises(EncoderError, match="not an embeddings list"):
        enc.encode(["x"])


def test_unreachable_endpoint() -> None:
    with pytest.raises(EncoderError, match="cannot reach"):
        OpenAIEncoder("http://127.0.0.1:9/v1", model="m", retries=0, timeout=2)


def test_needs_url_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HIPPODEX_EMBED_URL", raising=False)
    with pytest.raises(EncoderError, match="base URL and a model"):
        OpenAIEncoder()


def test_memory_uses_it_end_to_end_and_a_failed_embed_stores_nothing(server: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    enc = OpenAIEncoder(server, model="m", dim=DIM, retries=0)
    with Memory(tmp_path / "m.db", encoder=enc) as m:
        ep = m.add("hello there", user_id="u")[0]
        assert m.search("hello there", user_id="u", channels=["dense"])[0].episode.id == ep.id
        _Handler.fail_next = 1
        with pytest.raises(EncoderError):
            m.add("this one fails to embed", user_id="u")
        assert m.stats().episodes == 1
