"""The LLM extractor against the local OpenAI-compatible test server.

Covers the request (schema'd response_format, auth), validation of every field,
retries on errors and malformed replies, and that a bad reply yields nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from hippodex import ConfigError
from hippodex.extract import PREDICATES
from hippodex.extract.llm import ExtractorUnavailable, LLMExtractor, UnusableReply

NOW = datetime(2023, 5, 8, 13, 56)
TEXT = "I moved to Lisbon last month with my sister Maria. Hey Ana!"


def _fact(**over: Any) -> dict[str, Any]:
    fact = {
        "subject": "user",
        "predicate": "moved_to",
        "object": "Lisbon",
        "negated": False,
        "confidence": 0.9,
        "valid_from": "2023-04-01",
    }
    return {**fact, **over}


def _ex(server: Any, **kw: Any) -> LLMExtractor:
    return LLMExtractor(server.url, model="test-chat", api_key="sk-test", backoff=0, **kw)


def test_request_carries_the_schema_and_the_reply_becomes_candidates(chat_server: Any) -> None:
    chat_server.reply(
        {
            "facts": [_fact(), _fact(predicate="relation", object="sister: Maria", valid_from=None, confidence=0.8)],
            "entities": [{"name": "Lisbon", "kind": "place"}, {"name": "Maria", "kind": "person"}],
        }
    )
    result = _ex(chat_server).extract_all(TEXT, speaker="Caroline", role="user", occurred_at=NOW)
    assert [(f.subject, f.predicate, f.object) for f in result.facts] == [
        ("Caroline", "moved_to", "Lisbon"),  # "user" from the model means the speaker
        ("Caroline", "relation", "sister: Maria"),
    ]
    assert result.facts[0].valid_from == datetime(2023, 4, 1) and result.facts[0].text == "Caroline moved to Lisbon."
    assert [(e.name, e.kind, TEXT[e.start : e.end]) for e in result.entities] == [
        ("Lisbon", "place", "Lisbon"),
        ("Maria", "person", "Maria"),
    ]
    req = chat_server.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-test"
    fmt = req["body"]["response_format"]
    assert fmt["type"] == "json_schema"
    assert set(fmt["json_schema"]["schema"]["properties"]["facts"]["items"]["properties"]["predicate"]["enum"]) == set(
        PREDICATES
    )
    assert "Caroline" in req["body"]["messages"][0]["content"]


def test_first_person_subject_is_the_speaker(chat_server: Any) -> None:
    chat_server.reply({"facts": [_fact(subject="I")], "entities": []})
    facts = _ex(chat_server).extract(TEXT, speaker="Caroline", role="user", occurred_at=NOW)
    assert [f.subject for f in facts] == ["Caroline"]


@pytest.mark.parametrize(
    "bad",
    [
        {"predicate": "enjoys"},  # not in the vocabulary
        {"subject": ""},
        {"object": 42},
        {"negated": "no"},
        {"confidence": 1.5},
        {"confidence": True},
        {"valid_from": "last month"},
        {"object": "Paris"},  # not in the message: an invented fact
    ],
)
def test_invalid_items_are_dropped_and_counted(chat_server: Any, bad: dict[str, Any]) -> None:
    chat_server.reply({"facts": [_fact(**bad), _fact()], "entities": [{"name": "Tokyo", "kind": "place"}]})
    result = _ex(chat_server).extract_all(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert [f.object for f in result.facts] == ["Lisbon"]
    assert result.rejected == 2 and result.entities == []  # Tokyo is not in the text either


@pytest.mark.parametrize(
    "malformed",
    [
        "this is not json",
        '{"facts": [',
        "[1, 2, 3]",
        {"facts": "none"},
        {"facts": [], "entities": "none"},
    ],
)
def test_malformed_replies_are_retried_then_given_up_on(chat_server: Any, malformed: Any) -> None:
    ex = _ex(chat_server, retries=2)
    chat_server.reply(malformed, malformed, malformed)
    with pytest.raises(UnusableReply, match="malformed"):
        ex.extract(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert len(chat_server.requests) == 3
    assert ex.last_error is not None and "malformed" in ex.last_error


def test_a_malformed_reply_then_a_good_one(chat_server: Any) -> None:
    chat_server.reply("garbage", ("status", 503), "```json\n" + '{"facts": [' + "\n```", {"facts": [_fact()]})
    ex = _ex(chat_server, retries=3)
    facts = ex.extract(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert [f.object for f in facts] == ["Lisbon"] and ex.last_error is None
    assert len(chat_server.requests) == 4


def test_code_fenced_json_is_accepted(chat_server: Any) -> None:
    chat_server.reply(
        "```json\n" + '{"facts": [{"subject": "user", "predicate": "lives_in", "object": "Lisbon", '
        '"negated": false, "confidence": 0.7, "valid_from": null}], "entities": []}\n```'
    )
    assert [f.predicate for f in _ex(chat_server).extract(TEXT, speaker=None, role="user", occurred_at=NOW)] == [
        "lives_in"
    ]


def test_server_errors_retry_and_client_errors_do_not(chat_server: Any) -> None:
    ex = _ex(chat_server, retries=1)
    chat_server.reply(("status", 500), ("status", 429))
    with pytest.raises(ExtractorUnavailable):
        ex.extract(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert "HTTP 429" in (ex.last_error or "") and len(chat_server.requests) == 2
    chat_server.reply(("status", 400))
    with pytest.raises(ExtractorUnavailable):
        ex.extract(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert "HTTP 400" in (ex.last_error or "") and len(chat_server.requests) == 3


@pytest.mark.parametrize("code", [401, 403, 404])
def test_bad_credentials_or_url_are_a_config_error(chat_server: Any, code: int) -> None:
    chat_server.reply(("status", code))
    with pytest.raises(ConfigError, match=f"HTTP {code}"):
        _ex(chat_server).extract(TEXT, speaker=None, role="user", occurred_at=NOW)


def test_wrong_path_is_a_config_error(chat_server: Any) -> None:
    ex = LLMExtractor(chat_server.url.removesuffix("/v1"), model="m", backoff=0)
    with pytest.raises(ConfigError, match="HTTP 404"):
        ex.extract(TEXT, speaker=None, role="user", occurred_at=NOW)


def test_unreachable_endpoint_raises_unavailable() -> None:
    ex = LLMExtractor("http://127.0.0.1:9/v1", model="m", retries=1, backoff=0, timeout=2)
    with pytest.raises(ExtractorUnavailable, match="cannot reach"):
        ex.extract(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert "cannot reach" in (ex.last_error or "")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "", "model": "m"}, "needs a URL and a model"),
        ({"url": "http://x/v1", "model": ""}, "needs a URL and a model"),
        ({"url": "ftp://x/v1", "model": "m"}, "http"),
        ({"url": "http://x/v1", "model": "m", "timeout": 0}, "timeout"),
        ({"url": "http://x/v1", "model": "m", "retries": -1}, "retries"),
    ],
)
def test_bad_configuration(monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any], message: str) -> None:
    monkeypatch.delenv("HIPPODEX_LLM_URL", raising=False)
    monkeypatch.delenv("HIPPODEX_LLM_MODEL", raising=False)
    with pytest.raises(ConfigError, match=message):
        LLMExtractor(**kwargs)


def test_configured_from_the_environment(chat_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIPPODEX_LLM_URL", chat_server.url)
    monkeypatch.setenv("HIPPODEX_LLM_MODEL", "env-model")
    monkeypatch.setenv("HIPPODEX_LLM_KEY", "sk-env")
    ex = LLMExtractor(backoff=0)
    assert ex.name == "llm:env-model"
    ex.extract(TEXT, speaker=None, role="user", occurred_at=NOW)
    assert chat_server.requests[-1]["auth"] == "Bearer sk-env"
    assert chat_server.requests[-1]["body"]["model"] == "env-model"
