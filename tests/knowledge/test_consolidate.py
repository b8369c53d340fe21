"""Consolidation: the pure decision, then whole scenarios with exact histories."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from tests.knowledge.scripted import Scripted, claim

from hippodex import Memory
from hippodex.knowledge.consolidate import Plan, decide, same_object, slot, slot_predicates
from hippodex.model import Fact

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def fact(fid: str, obj: str, *, valid_from: datetime | None = T0, negated: bool = False, by: str = "Ana") -> Fact:
    return Fact(
        id=fid,
        user_id="u",
        subject="Ana",
        predicate="lives_in",
        object=obj,
        text=obj,
        confidence=0.8,
        recorded_at=T0,
        last_seen=T0,
        negated=negated,
        single_valued=True,
        asserted_by=by,
        valid_from=valid_from,
    )


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Lisbon", "lisbon", True),
        ("Lisbon", "Lisbon, Portugal", True),
        ("a dog", "a cat", False),
        ("hiking", "hiking with friends", True),
        ("the red car", "a red car", True),
        ("", "", True),
        ("Paris", "", False),
        # A capitalised word in front makes another name; trailing words qualify.
        ("York", "New York", False),
        ("New York", "York", False),
        ("Africa", "South Africa", False),
        ("New York", "New York City", True),
        ("The Hague", "Hague", True),
        ("a dog", "my dog", True),
        ("friend: Ana", "best friend: Ana", True),  # lowercase words describe
        ("Portugal", "Lisbon, Portugal", False),
    ],
)
def test_same_object(a: str, b: str, same: bool) -> None:
    assert same_object(a, b) is same


def test_slot_normalises_subject_and_predicate_spellings() -> None:
    assert slot("  ANA ", "Location") == ("ana", "lives_in")


def test_decide_each_rule() -> None:
    later = datetime(2022, 1, 1, tzinfo=UTC)
    old = fact("f1", "Paris")
    assert decide(claim("Ana", "lives_in", "Paris"), later, "Ana", [old]) == Plan("reinforce", target="f1")
    assert decide(claim("Ana", "lives_in", "Lisbon"), later, "Ana", [old]) == Plan("add", closes=("f1",))
    earlier = datetime(2019, 1, 1, tzinfo=UTC)
    assert decide(claim("Ana", "lives_in", "Rome"), earlier, "Ana", [old]) == Plan("add", closed_by="f1", closed_at=T0)
    assert decide(claim("Ana", "lives_in", "Paris", negated=True), later, "Ana", [old]) == Plan("add", closes=("f1",))
    assert decide(claim("Ana", "lives_in", "Oslo"), later, "Bo", [old]) == Plan("add", disputes="f1")
    assert decide(claim("Ana", "likes", "tea"), later, "Ana", [fact("f2", "coffee")]) == Plan("add")
    closed = fact("f3", "Paris")
    closed = Fact(**{**closed.__dict__, "valid_to": later, "superseded_by": "f9"})
    assert decide(claim("Ana", "lives_in", "Madrid"), later, "Ana", [closed]) == Plan("add")


def _sentiment(fid: str, predicate: str, obj: str, *, valid_from: datetime = T0, negated: bool = False) -> Fact:
    return replace(fact(fid, obj, valid_from=valid_from, negated=negated), predicate=predicate, single_valued=False)


def test_an_opposite_sentiment_closes_the_older_one() -> None:
    later = datetime(2022, 1, 1, tzinfo=UTC)
    hate = _sentiment("f1", "dislikes", "sushi")
    assert decide(claim("Ana", "likes", "sushi"), later, "Ana", [hate]) == Plan("add", closes=("f1",))
    love = _sentiment("f2", "likes", "Sushi")
    assert decide(claim("Ana", "dislikes", "sushi"), later, "Ana", [love]) == Plan("add", closes=("f2",))
    # Told late: the older sentiment lands in history, closed by the newer one.
    earlier = datetime(2019, 1, 1, tzinfo=UTC)
    assert decide(claim("Ana", "likes", "sushi"), earlier, "Ana", [hate]) == Plan("add", closed_by="f1", closed_at=T0)
    # A liked fact repeated reinforces itself and still closes the rival dislike.
    assert decide(claim("Ana", "likes", "sushi"), later, "Ana", [love, hate]) == Plan(
        "reinforce", target="f2", closes=("f1",)
    )


def test_sentiments_that_agree_or_differ_in_object_stay() -> None:
    later = datetime(2022, 1, 1, tzinfo=UTC)
    hate = _sentiment("f1", "dislikes", "sushi")
    assert decide(claim("Ana", "likes", "sushi", negated=True), later, "Ana", [hate]) == Plan("add")  # agrees
    assert decide(claim("Ana", "likes", "ramen"), later, "Ana", [hate]) == Plan("add")
    not_liked = _sentiment("f2", "likes", "sushi", negated=True)
    assert decide(claim("Ana", "dislikes", "sushi"), later, "Ana", [not_liked]) == Plan("add")


def test_slot_predicates_name_the_opposite_sentiment() -> None:
    assert slot_predicates("likes") == ("likes", "dislikes")
    assert slot_predicates("dislikes") == ("dislikes", "likes")
    assert slot_predicates("location") == ("lives_in",)


def _memory(db_target: str, script: dict[str, list]) -> Memory:  # type: ignore[type-arg]
    return Memory(db_target, encoder=None, facts=Scripted(script), learn_on_add=True)


def _say(m: Memory, text: str, when: str, speaker: str = "Ana") -> str:
    return m.add([{"role": "user", "content": text, "speaker": speaker}], user_id="u", session_id=when, timestamp=when)[
        0
    ].id


def _chain(m: Memory, fact_id: str) -> list[tuple[str, str | None, str | None, bool]]:
    return [
        (f.object, f.valid_from and f"{f.valid_from:%Y-%m-%d}", f.valid_to and f"{f.valid_to:%Y-%m-%d}", f.current)
        for f in m.history(fact_id)
    ]


def test_moving_city_twice_keeps_the_whole_chain(db_target: str) -> None:
    script = {
        "I live in Paris": [claim("Ana", "lives_in", "Paris")],
        "We moved to Lisbon": [claim("Ana", "lives_in", "Lisbon")],
        "Now I live in Berlin": [claim("Ana", "lives_in", "Berlin")],
    }
    with _memory(db_target, script) as m:
        e1 = _say(m, "I live in Paris", "2020-01-01")
        _say(m, "We moved to Lisbon", "2021-06-01")
        e3 = _say(m, "Now I live in Berlin", "2023-03-01")
        current = m.facts("u")
        assert [(f.object, f.sources) for f in current] == [("Berlin", (e3,))]
        assert _chain(m, current[0].id) == [
            ("Paris", "2020-01-01", "2021-06-01", False),
            ("Lisbon", "2021-06-01", "2023-03-01", False),
            ("Berlin", "2023-03-01", None, True),
        ]
        paris = m.history(current[0].id)[0]
        assert paris.sources == (e1,) and paris.superseded_by == m.history(current[0].id)[1].id
        assert _chain(m, paris.id) == _chain(m, current[0].id)  # the chain reads the same from any link
        assert len(m.facts("u", current_only=False)) == 3  # nothing deleted


def test_job_change_and_a_statement_arriving_late(db_target: str) -> None:
    script = {
        "I work at Acme": [claim("Ana", "works_at", "Acme")],
        "I joined Globex": [claim("Ana", "works_at", "Globex")],
        "back then I worked at Initech": [claim("Ana", "works_at", "Initech")],
    }
    with _memory(db_target, script) as m:
        _say(m, "I work at Acme", "2019-01-01")
        _say(m, "I joined Globex", "2022-01-01")
        _say(m, "back then I worked at Initech", "2018-01-01")  # imported late, happened first
        [now] = m.facts("u")
        assert now.object == "Globex"
        history = sorted(m.facts("u", current_only=False), key=lambda f: f.valid_from or now.valid_from)
        assert [(f.object, f.valid_to and f"{f.valid_to:%Y}") for f in history] == [
            ("Initech", "2019"),
            ("Acme", "2022"),
            ("Globex", None),
        ]  # the late statement is history, never the current job


def test_preference_reversed_and_repeated(db_target: str) -> None:
    script = {
        "I love sushi": [claim("Ana", "likes", "sushi")],
        "sushi is the best": [claim("Ana", "likes", "sushi")],
        "I went off sushi": [claim("Ana", "likes", "sushi", negated=True)],
        "I like tea": [claim("Ana", "likes", "tea")],
    }
    with _memory(db_target, script) as m:
        a = _say(m, "I love sushi", "2021-01-01")
        b = _say(m, "sushi is the best", "2021-02-01")
        _say(m, "I like tea", "2021-03-01")
        [sushi] = [f for f in m.facts("u") if f.object == "sushi"]
        assert sushi.seen == 2 and sushi.sources == tuple(sorted((a, b))) and sushi.confidence == pytest.approx(0.96)
        c = _say(m, "I went off sushi", "2022-01-01")
        current = {(f.object, f.negated) for f in m.facts("u")}
        assert current == {("tea", False), ("sushi", True)}  # likes accumulate; sushi reversed
        [neg] = [f for f in m.facts("u") if f.negated]
        assert neg.sources == (c,) and _chain(m, neg.id) == [
            ("sushi", "2021-01-01", "2022-01-01", False),
            ("sushi", "2022-01-01", None, True),
        ]


def test_a_third_party_claim_does_not_override_a_self_report(db_target: str) -> None:
    script = {
        "I live in Oslo": [claim("Ana", "lives_in", "Oslo")],
        "Ana lives in Bergen now": [claim("Ana", "lives_in", "Bergen")],
        "I moved to Bergen": [claim("Ana", "lives_in", "Bergen")],
    }
    with _memory(db_target, script) as m:
        _say(m, "I live in Oslo", "2021-01-01", speaker="Ana")
        _say(m, "Ana lives in Bergen now", "2021-05-01", speaker="Bo")
        current = {(f.object, f.asserted_by) for f in m.facts("u")}
        assert current == {("Oslo", "Ana"), ("Bergen", "Bo")}  # disputed, both kept
        bergen = next(f for f in m.facts("u") if f.object == "Bergen")
        oslo = next(f for f in m.facts("u") if f.object == "Oslo")
        assert [e[0] for e in m.store.fact_events(bergen.id)] == ["added", "disputes"]
        assert [e[0] for e in m.store.fact_events(oslo.id)] == ["added", "disputed"]
        _say(m, "I moved to Bergen", "2021-09-01", speaker="Ana")  # Ana herself confirms
        assert {f.object for f in m.facts("u")} == {"Bergen"}
        assert next(f for f in m.facts("u")).seen == 2  # Bo's claim, reinforced by Ana


def test_different_subjects_never_interfere(db_target: str) -> None:
    script = {"I live in Rome": [claim("Ana", "lives_in", "Rome")], "I live in Nice": [claim("Bo", "lives_in", "Nice")]}
    with _memory(db_target, script) as m:
        _say(m, "I live in Rome", "2021-01-01", speaker="Ana")
        _say(m, "I live in Nice", "2021-02-01", speaker="Bo")
        assert {(f.subject, f.object) for f in m.facts("u")} == {("Ana", "Rome"), ("Bo", "Nice")}
        assert [f.object for f in m.facts("u", subject="bo")] == ["Nice"]


def test_a_failing_extractor_never_loses_the_episode(db_target: str) -> None:
    class Broken:
        name = "broken"

        def extract(self, content: str, **_: object) -> list:  # type: ignore[type-arg]
            raise RuntimeError("model fell over")

    with Memory(db_target, encoder=None, facts=Broken(), learn_on_add=True) as m:
        [ep] = m.add("I live in Rome", user_id="u")
        assert m.get(ep.id, user_id="u").content == "I live in Rome" and m.facts("u") == []
