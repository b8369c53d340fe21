"""The OpenAI-compatible encoder refuses replies it cannot store, against local
loopback embeddings servers the tests start and script (no real service)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hippodex import EncoderError, Memory
from hippodex.encode.cache import CachedEncoder, EmbeddingCache
from hippodex.encode.openai import OpenAIEncoder

DIM = 4
Reply = Callable[[list[str]], Any]


def _good(value: float = 1.0) -> Reply:
    return lambda texts: {"data": [{"index": i, "embedding": [value, float(i), 2.0, 3.0]} for i in range(len(texts))]}


def _serve(reply: list[Reply]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            payload = json.dumps(reply[0](body["input"])).encode()  # NaN goes out as the literal NaN
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/v1"


@pytest.fixture
def server() -> Iterator[tuple[list[Reply], str]]:
    reply: list[Reply] = [_good()]
    httpd, url = _serve(reply)
    yield reply, url
    httpd.shutdown()
    httpd.server_close()


def _rows(*rows: Any) -> Reply:
    return lambda texts: {"data": [{"index": i, "embedding": r} for i, r in enumerate(rows)]}


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (_rows([1.0, 2.0, 3.0, 4.0], [1.0, 2.0]), "mixed lengths"),
        (_rows("AACAPwAAAEA=", "AACAPwAAAEA="), "string"),
        (_rows(None, [1.0, 2.0, 3.0, 4.0]), "NoneType"),
        (_rows(0.5, 0.5), "float"),
        (_rows([], []), "list"),
        (_rows([1.0, "x", 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]), "not numbers"),
        (_rows([1.0, True, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]), "not numbers"),
        (_rows([1.0, float("nan"), 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]), "non-finite"),
        (_rows([1.0, 2.0, 3.0, 4.0], [float("inf"), 2.0, 3.0, 4.0]), "non-finite"),
        (_rows([1e39, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]), "non-finite"),  # beyond float32
        (_rows([10**400, 2, 3, 4], [1, 2, 3, 4]), "non-finite"),
        (_rows([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]), "expected 4-dimensional"),
        (lambda texts: {"data": [{"index": 0, "embedding": [1.0] * 4}] * 2}, "indexes"),
        (lambda texts: {"data": [1, 2]}, "not an embeddings list"),
        (lambda texts: [1, 2], "not an embeddings list"),
    ],
)
def test_unusable_embeddings_are_an_encoder_error(server: tuple[list[Reply], str], reply: Reply, message: str) -> None:
    script, url = server
    enc = OpenAIEncoder(url, model="m", dim=DIM, retries=0)
    script[0] = reply
    with pytest.raises(EncoderError, match=message):
        enc.encode(["a", "b"])


def test_a_probe_with_a_bad_vector_is_an_encoder_error(server: tuple[list[Reply], str]) -> None:
    script, url = server
    script[0] = _rows([float("nan"), 1.0])
    with pytest.raises(EncoderError, match="non-finite"):
        OpenAIEncoder(url, model="m", retries=0)


def test_memory_stores_nothing_when_the_embeddings_are_bad(server: tuple[list[Reply], str], tmp_path: Path) -> None:
    script, url = server
    with Memory(tmp_path / "m.db", encoder=OpenAIEncoder(url, model="m", dim=DIM, retries=0)) as m:
        m.add("hello there", user_id="u")
        script[0] = lambda texts: {"data": [{"index": i, "embedding": [float("nan")] * DIM} for i in range(len(texts))]}
        with pytest.raises(EncoderError, match="non-finite"):
            m.add(["this one fails", "and this"], user_id="u")
        assert m.stats().episodes == 1 and m.list(user_id="u").total == 1
        script[0] = _good()
        assert len(m.add("this one works", user_id="u")) == 1


def test_two_servers_serving_one_model_name_do_not_share_cached_vectors(tmp_path: Path) -> None:
    a_httpd, a_url = _serve([_good(1.0)])
    b_httpd, b_url = _serve([_good(-1.0)])
    try:
        cache = EmbeddingCache(tmp_path / "c.sqlite")
        a = CachedEncoder(OpenAIEncoder(a_url, model="default", dim=DIM), cache)
        b = CachedEncoder(OpenAIEncoder(b_url, model="default", dim=DIM), cache)
        assert a.name == b.name
        va, vb = a.encode(["same text"]), b.encode(["same text"])
        assert va[0, 0] > 0 > vb[0, 0]
    finally:
        a_httpd.shutdown()
        b_httpd.shutdown()
