"""Context assembly: the block stays within its token budget, whatever the query and budget."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hippodex.model import Episode, Fact, Hit
from hippodex.recall.assemble import QUERY_ECHO_CHARS, assemble, estimate_tokens, relevant_facts

_DAY = datetime(2024, 5, 8, 9, 0, tzinfo=UTC)


def _hit(n: int, content: str, session: str = "s1") -> Hit:
    at = _DAY + timedelta(minutes=n)
    return Hit(Episode(f"e{n}", "u", session, n, "user", content, at, at), 1.0 / (n + 1), {})


def _fact(n: int, text: str, since: datetime | None = _DAY) -> Fact:
    return Fact(f"f{n}", "u", "user", "lives_in", "Porto", text, 0.9, _DAY, _DAY, valid_from=since)


HITS = [_hit(n, f"I moved to Porto in May and found a flat near the river, number {n}") for n in range(20)]
FACTS = [_fact(n, f"The user lives in Porto (note {n})") for n in range(20)]


@pytest.mark.parametrize("query", ["Porto", "Porto " * 2000, "Porto\n" * 300], ids=["short", "long", "lines"])
@pytest.mark.parametrize("budget", [20, 50, 100, 1000])
@pytest.mark.parametrize("facts", [(), FACTS], ids=["no-facts", "facts"])
@pytest.mark.parametrize("hits", [[], HITS], ids=["no-hits", "hits"])
def test_block_stays_within_the_budget(query: str, budget: int, facts: tuple[Fact, ...], hits: list[Hit]) -> None:
    block = assemble(query, hits, budget, facts=facts)
    assert estimate_tokens(block) <= budget
    first = block.splitlines()[0]
    assert first.endswith(("Porto", "…")) and len(first) < 60 + QUERY_ECHO_CHARS


def test_long_query_is_echoed_cut_and_leaves_room_for_evidence() -> None:
    block = assemble("Porto " * 2000, HITS, 100)
    header, *rest = block.splitlines()
    assert header.startswith("Memories relevant to: Porto Porto") and header.endswith("…")
    assert len(header) <= len("Memories relevant to: ") + QUERY_ECHO_CHARS
    assert any(line.startswith("- [2024-05-08] user: I moved to Porto") for line in rest)
    assert assemble("Porto " * 2000, [], 100).endswith("…")
    assert len(assemble("Porto " * 2000, [], 100)) < 40 + QUERY_ECHO_CHARS


def test_an_empty_section_is_left_out() -> None:
    # at 50 tokens the facts fit but no evidence line does: no bare "Evidence:" heading
    block = assemble("where do I live?", [_hit(0, "word " * 100)], 50, facts=[_fact(0, "Lives in Porto", None)])
    assert "Known facts:" in block and "Evidence:" not in block
    assert not block.rstrip().endswith(":")
    both = assemble("where do I live?", HITS, 1000, facts=FACTS[:1])
    lines = both.splitlines()
    assert lines[1] == "Known facts:" and "Evidence:" in lines and lines[-1].startswith("- [2024-05-08]")


def test_short_query_is_echoed_whole() -> None:
    assert assemble("where do I live?", [], 20) == "No memories found for: where do I live?"
    assert assemble("where do I live?", HITS, 1000).splitlines()[0] == "Memories relevant to: where do I live?"


def test_facts_are_chosen_by_relevance_before_current_ones_are_shown_first() -> None:
    # A question about change ranks the old address first; the current facts after it must
    # not push it out of a tight allowance just because they are shown first.
    old = Fact("f-old", "u", "user", "lives_in", "Porto", "The user lived in Porto", 0.9, _DAY, _DAY, valid_to=_DAY)
    current = [_fact(n, f"The user has a fact of the present, number {n}") for n in range(20)]
    block = assemble("where did I live before?", [], 150, facts=[old, *current])
    lines = block.splitlines()
    shown = [line for line in lines if line.startswith("- ")]
    assert any("Porto" in line for line in shown)  # kept, though not current
    assert "Porto" in shown[-1] and len(shown) < 21  # shown after the current ones that fit


def test_another_persons_claim_is_marked_and_comes_after_the_persons_own_word() -> None:
    def said(n: int, city: str, by: str) -> Fact:
        text = f"Caroline lives in {city}."
        return Fact(f"f{n}", "u", "Caroline", "lives_in", city, text, 0.9, _DAY, _DAY, asserted_by=by, sources=("e1",))

    hearsay, own = said(1, "Denver", "Melanie"), said(2, "Boston", "Caroline")
    facts = relevant_facts("where does Caroline live?", [hearsay, own], [_hit(1, "x")], now=_DAY)
    assert [f.object for f in facts] == ["Boston", "Denver"]
    block = assemble("where does Caroline live?", [], 300, facts=facts)
    assert "- Caroline lives in Boston.\n- Caroline lives in Denver. (said by Melanie)" in block


def test_an_event_is_dated_on_its_day_and_a_state_since_its_start() -> None:
    moved = Fact("f1", "u", "user", "moved_to", "Lisbon", "The user moved to Lisbon.", 0.9, _DAY, _DAY, valid_from=_DAY)
    lives = Fact("f2", "u", "user", "lives_in", "Lisbon", "The user lives in Lisbon.", 0.9, _DAY, _DAY, valid_from=_DAY)
    block = assemble("Lisbon", [], 300, facts=[moved, lives])
    assert "- The user moved to Lisbon. (on 2024-05-08)" in block
    assert "- The user lives in Lisbon. (since 2024-05-08)" in block


def _said(n: int, subject: str, predicate: str, obj: str, text: str, by: str = "user") -> Fact:
    return Fact(f"f{n}", "u", subject, predicate, obj, text, 0.9, _DAY, _DAY, asserted_by=by)


def test_an_allergy_or_a_diet_is_kept_in_mind_whatever_is_asked() -> None:
    allergy = _said(1, "user", "health", "is allergic to peanuts", "The user is allergic to peanuts.")
    diet = _said(2, "user", "diet", "vegetarian", "The user is vegetarian.")
    home = _said(3, "user", "lives_in", "Porto", "The user lives in Porto.")
    others = _said(4, "Clara", "health", "is allergic to cats", "Clara is allergic to cats.", by="user")
    kin = _said(5, "the user's mom", "health", "has asthma", "The user's mom has asthma.")
    facts = relevant_facts("suggest a dinner recipe", [home, allergy, others, diet, kin], [], now=_DAY)
    assert {f.id for f in facts} == {"f1", "f2"}  # the person's own only, not hearsay nor kin
    # ...and after the facts the question is about.
    ranked = relevant_facts("where do I live? Porto?", [allergy, home, diet], [], now=_DAY)
    assert [f.id for f in ranked] == ["f3", "f1", "f2"]
    superseded = replace(_said(6, "user", "diet", "vegan", "The user is vegan."), valid_to=_DAY)
    assert relevant_facts("suggest a dinner recipe", [superseded], [], now=_DAY) == []


def test_what_the_user_tells_of_their_own_kin_is_not_marked_as_hearsay() -> None:
    kin = _said(1, "the user's mom", "lives_in", "Faro", "The user's mom lives in Faro.")
    named = _said(2, "Ana's dad", "works_as", "a plumber", "Ana's dad works as a plumber.", by="Ana")
    block = assemble("mom dad", [], 300, facts=[kin, named])
    assert "- The user's mom lives in Faro.\n" in block + "\n" and "said by" not in block
