"""Learning with an LLM extractor whose endpoint fails, against the local
OpenAI-compatible test server (tests/llm_server.py): an endpoint failure leaves
the episode for a later pass, an unusable reply is reported and skipped, and a
down endpoint does not slow every ``add``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.extract.conftest import load_llm_server

from hippodex import Memory
from hippodex.extract import LLMExtractor
from hippodex.extract.llm import MAX_FACTS


@pytest.fixture
def llm_server() -> Iterator[Any]:
    with load_llm_server().serve() as state:
        yield state


def _lives(obj: str) -> dict[str, Any]:
    return {"subject": "user", "predicate": "lives_in", "object": obj, "negated": False, "confidence": 0.9}


def _reply(*objects: str) -> dict[str, Any]:
    return {"facts": [{**_lives(o), "valid_from": None} for o in objects], "entities": []}


def _memory(path: Path, server: Any, **kw: Any) -> Memory:
    llm = LLMExtractor(server.url, model="test-chat", backoff=0, retries=0, timeout=5)
    return Memory(path, encoder=None, facts=llm, **kw)


@pytest.mark.parametrize(
    "failure", [("status", 500), ("status", 401), ("status", 400), ("raw", b"<html>a proxy</html>")]
)
def test_an_endpoint_failure_is_reported_and_retried_later(tmp_path: Path, llm_server: Any, failure: Any) -> None:
    with _memory(tmp_path / "m.db", llm_server) as m:
        for i, text in enumerate(["I live in Porto", "I live in Lisbon", "I live in Faro"]):
            m.add(text, user_id="ana", timestamp=f"2023-0{i + 1}-01")
        llm_server.reply(_reply("Porto"), failure)
        report = m.consolidate(user_id="ana")
        # The episode before the failure stays learned; the failed one and those after wait.
        assert report.learned.episodes == 1 and report.learned.unavailable
        assert len(report.learned.errors) == 1 and "not learned yet" in report.learned.errors[0]
        assert report.to_dict()["errors"] == report.learned.errors
        assert [f.object for f in m.facts("ana")] == ["Porto"]
        llm_server.reply(_reply("Lisbon"), _reply("Faro"))  # the endpoint is fixed
        again = m.consolidate(user_id="ana")
        assert again.learned.episodes == 2 and again.learned.errors == [] and not again.learned.unavailable
        assert [f.object for f in m.facts("ana")] == ["Faro"]
        assert [f.object for f in m.history(m.facts("ana")[0].id)] == ["Porto", "Lisbon", "Faro"]


def test_an_unusable_reply_is_reported_and_learning_moves_on(tmp_path: Path, llm_server: Any) -> None:
    with _memory(tmp_path / "m.db", llm_server) as m:
        m.add(["I live in Porto", "I live in Lisbon"], user_id="ana", timestamp="2023-01-01")
        llm_server.reply('{"facts": [', _reply("Lisbon"))
        report = m.consolidate(user_id="ana")
        assert report.learned.episodes == 2 and not report.learned.unavailable
        assert len(report.learned.errors) == 1 and "malformed" in report.learned.errors[0]
        assert [f.object for f in m.facts("ana")] == ["Lisbon"]
        assert m.consolidate(user_id="ana").learned.episodes == 0  # not asked again


def test_a_down_endpoint_keeps_adds_fast_and_consolidate_retries_at_once(tmp_path: Path, llm_server: Any) -> None:
    llm_server.default = ("status", 500)
    with _memory(tmp_path / "m.db", llm_server, learn_on_add=True) as m:
        m.add("I live in Porto", user_id="ana")  # tries once, fails, and pauses learning on add
        assert len(llm_server.requests) == 1
        start = time.perf_counter()
        for i in range(5):
            m.add(f"note {i}", user_id="ana")
        assert len(llm_server.requests) == 1 and time.perf_counter() - start < 2
        assert m.list(user_id="ana").total == 6  # every add was stored
        assert m.facts("ana") == []
        llm_server.default = {"facts": [], "entities": []}
        llm_server.reply(_reply("Porto"))
        report = m.consolidate(user_id="ana")  # an explicit pass does not wait for the pause
        assert report.learned.episodes == 6 and report.learned.errors == []
        assert [f.object for f in m.facts("ana")] == ["Porto"]
        llm_server.reply(_reply("Lisbon"))
        m.add("I live in Lisbon now", user_id="ana")  # the success lifted the pause
        assert [f.object for f in m.facts("ana")] == ["Lisbon"]


def test_a_failed_extractor_is_tried_once_per_pass_not_once_per_user(tmp_path: Path, llm_server: Any) -> None:
    llm_server.default = ("status", 500)
    with _memory(tmp_path / "m.db", llm_server) as m:
        for user in ("ana", "bo", "cy"):
            m.add("I live in Porto", user_id=user)
        report = m.consolidate()
        assert len(llm_server.requests) == 1 and report.learned.episodes == 0
        assert report.learned.errors[-1].startswith("2 more user(s) not learned")
        llm_server.default = _reply("Porto")
        assert m.consolidate().learned.episodes == 3


def test_a_flood_of_facts_is_capped_and_reported(tmp_path: Path, llm_server: Any) -> None:
    with _memory(tmp_path / "m.db", llm_server) as m:
        m.add("I live in Porto", user_id="ana")
        llm_server.reply({"facts": [{**_lives("Porto"), "valid_from": None}] * 10_000, "entities": []})
        start = time.perf_counter()
        report = m.consolidate(user_id="ana")
        assert time.perf_counter() - start < 10
        assert report.learned.episodes == 1 and report.learned.added + report.learned.reinforced <= MAX_FACTS
        assert any(f"kept {MAX_FACTS} facts" in e for e in report.learned.errors)
