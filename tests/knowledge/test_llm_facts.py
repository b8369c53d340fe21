"""Memory with the LLM extractor, against the local OpenAI-compatible test server
(tests/llm_server.py; it does no language modelling, so nothing here measures
extraction quality — only that replies, good or bad, are handled safely)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.extract.conftest import load_llm_server

from hippodex import ConfigError, Memory
from hippodex.extract import LLMExtractor


@pytest.fixture
def llm_server() -> Iterator[Any]:
    with load_llm_server().serve() as state:
        yield state


def _fact(obj: str, when: str) -> dict[str, Any]:
    return {
        "subject": "user",
        "predicate": "lives_in",
        "object": obj,
        "negated": False,
        "confidence": 0.9,
        "valid_from": when,
    }


def test_llm_facts_consolidate_and_bad_replies_change_nothing(tmp_path: Path, llm_server: Any) -> None:
    llm = LLMExtractor(llm_server.url, model="test-chat", backoff=0, retries=1)
    with Memory(tmp_path / "m.db", encoder=None, facts=llm) as m:
        assert not m.learn_on_add  # an LLM is slow: learning waits for consolidate() unless asked
        m.add("I live in Porto", user_id="ana", timestamp="2022-01-01")
        m.add("We moved to Lisbon", user_id="ana", timestamp="2023-06-01")
        m.add("the weather is nice", user_id="ana", timestamp="2023-07-01")
        llm_server.reply(
            {"facts": [_fact("Porto", "2022-01-01")], "entities": [{"name": "Porto", "kind": "place"}]},
            {"facts": [_fact("Lisbon", "2023-05-01")], "entities": []},
            "{not json",  # malformed twice: the third episode yields nothing, and says so
            "[]",
        )
        report = m.consolidate(user_id="ana")
        assert report.learned.episodes == 3 and report.learned.added == 2 and report.learned.superseded == 1
        assert len(report.learned.errors) == 1 and "malformed" in report.learned.errors[0]
        [now] = m.facts("ana")
        assert (now.object, f"{now.valid_from:%Y-%m-%d}", now.extractor) == ("Lisbon", "2023-05-01", "llm:test-chat")
        assert [f.object for f in m.history(now.id)] == ["Porto", "Lisbon"]
        assert m.list(user_id="ana").total == 3  # every episode kept, whatever the model said
        assert len(llm_server.requests) == 4


def test_facts_setting_by_name_and_environment(
    tmp_path: Path, llm_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIPPODEX_FACTS", "none")
    with Memory(tmp_path / "a.db", encoder=None) as m:
        m.add("I live in Porto", user_id="ana")
        assert m.facts("ana") == []
    monkeypatch.setenv("HIPPODEX_FACTS", "llm")
    monkeypatch.setenv("HIPPODEX_LLM_URL", llm_server.url)
    monkeypatch.setenv("HIPPODEX_LLM_MODEL", "test-chat")
    with Memory(tmp_path / "b.db", encoder=None) as m:
        assert m._extractor is not None and m._extractor.name == "llm:test-chat"
    with pytest.raises(ConfigError, match="facts"):
        Memory(tmp_path / "c.db", encoder=None, facts="gpt")
