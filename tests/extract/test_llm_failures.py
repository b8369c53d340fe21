"""How the LLM extractor classifies failures, and its per-request deadline.

Replies the model could give go through the local OpenAI-compatible test server
(tests/llm_server.py). Faults below HTTP (a reply cut short, one that is not
HTTP, a server trickling bytes) come from a bare loopback socket server here,
since a well-behaved HTTP server cannot produce them.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from hippodex.extract.llm import MAX_ENTITIES, MAX_FACTS, ExtractorUnavailable, LLMExtractor, UnusableReply

NOW = datetime(2023, 5, 8, 13, 56)
TEXT = "I moved to Lisbon last month."
GOOD = json.dumps(
    {"choices": [{"message": {"role": "assistant", "content": json.dumps({"facts": [], "entities": []})}}]}
).encode()

Script = Callable[[socket.socket], None]


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(v) for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")) if k.lower() == b"content-length"
    )
    while len(body) < length:
        body += conn.recv(65536)


@pytest.fixture
def raw_server() -> Iterator[Callable[[Script], str]]:
    """Serve every connection with the script the test sets; yields a setter returning the URL."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(0.1)  # so the loop notices the end of the test
    script: list[Script] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                try:
                    _read_request(conn)
                    script[0](conn)
                except OSError:
                    pass  # the client gave up first: that is the point of some tests

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()

    def use(s: Script) -> str:
        script[:] = [s]
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"

    yield use
    stop.set()
    thread.join(timeout=5)
    sock.close()


def _ex(url: str, **kw: Any) -> LLMExtractor:
    return LLMExtractor(url, model="m", backoff=0, **{"retries": 0, **kw})


def _trickle(head: bytes, body: bytes, every: float) -> Script:
    def send(conn: socket.socket) -> None:
        conn.sendall(head)
        for byte in body:
            conn.sendall(bytes([byte]))
            time.sleep(every)

    return send


def test_a_trickling_body_stops_at_the_deadline(raw_server: Callable[[Script], str]) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(GOOD)}\r\n\r\n".encode()
    ex = _ex(raw_server(_trickle(head, GOOD, 0.1)), timeout=1)
    start = time.perf_counter()
    with pytest.raises(ExtractorUnavailable, match="no complete reply within 1 s"):
        ex.extract(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert time.perf_counter() - start < 2.5  # the whole body would take 13 s


def test_trickling_headers_stop_at_the_deadline(raw_server: Callable[[Script], str]) -> None:
    ex = _ex(raw_server(_trickle(b"", b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 200, 0.05)), timeout=1)
    start = time.perf_counter()
    with pytest.raises(ExtractorUnavailable, match="within 1 s"):
        ex.extract(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert time.perf_counter() - start < 2.5


@pytest.mark.parametrize(
    ("wire", "name"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" + GOOD[:20], "IncompleteRead"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + GOOD[:20], "IncompleteRead"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "BadStatusLine"),
        (b"", "RemoteDisconnected"),
    ],
)
def test_a_reply_cut_short_or_not_http_is_unavailable(
    raw_server: Callable[[Script], str], wire: bytes, name: str
) -> None:
    ex = _ex(raw_server(lambda conn: conn.sendall(wire)), retries=1)
    with pytest.raises(ExtractorUnavailable, match=name):
        ex.extract(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert ex.last_error is not None and "2 attempt(s)" in ex.last_error


def test_a_good_reply_through_the_watched_connection(raw_server: Callable[[Script], str]) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(GOOD)}\r\n\r\n".encode()
    url = raw_server(lambda conn: conn.sendall(head + GOOD))
    assert _ex(url, timeout=1).extract(TEXT, speaker=None, role="user", occurred_at=NOW) == []
    time.sleep(1.2)  # the deadline timer was cancelled: nothing fires on a finished call


@pytest.mark.parametrize("body", [("raw", b"<html>a proxy page</html>"), ("raw", b'{"unexpected": true}')])
def test_a_reply_that_is_not_a_chat_completion_is_an_endpoint_failure(chat_server: Any, body: Any) -> None:
    chat_server.reply(body, body)
    with pytest.raises(ExtractorUnavailable, match="not a chat completion"):
        _ex(chat_server.url, retries=1).extract(TEXT, speaker=None, role="user", occurred_at=NOW)


def test_unusable_model_output_is_its_own_error(chat_server: Any) -> None:
    chat_server.reply("not json at all")
    ex = _ex(chat_server.url)
    with pytest.raises(UnusableReply, match="not JSON"):
        ex.extract(TEXT, speaker=None, role="user", occurred_at=NOW)
    chat_server.reply("not json at all")
    result = ex.extract_all(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert result.error is not None and result.facts == []


def test_facts_and_entities_past_the_caps_are_not_read(chat_server: Any) -> None:
    fact = {"subject": "user", "predicate": "moved_to", "object": "Lisbon", "negated": False, "confidence": 0.9}
    fact["valid_from"] = None
    chat_server.reply({"facts": [fact] * 10_000, "entities": [{"name": "Lisbon", "kind": "place"}] * 500})
    start = time.perf_counter()
    result = _ex(chat_server.url).extract_all(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert time.perf_counter() - start < 5
    assert len(result.facts) == MAX_FACTS and len(result.entities) == MAX_ENTITIES
    assert result.truncated == (10_000 - MAX_FACTS) + (500 - MAX_ENTITIES)
    chat_server.reply({"facts": [fact] * 10_000, "entities": []})
    assert len(_ex(chat_server.url).extract(TEXT, speaker=None, role="user", occurred_at=NOW)) == MAX_FACTS
