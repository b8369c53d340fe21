"""The rule extractor and consolidation together: what memory holds after a few plain sentences."""

from __future__ import annotations

import pytest

from hippodex import Memory


def _facts(db_target: str, *sentences: str) -> set[tuple[str, str, bool, bool, str]]:
    """(predicate, object, negated, current, text) of every fact after saying ``sentences`` in order."""
    with Memory(db_target, encoder=None) as m:
        for i, text in enumerate(sentences):
            m.add([{"role": "user", "content": text}], user_id="u", timestamp=f"2023-01-0{i + 1}")
        return {(f.predicate, f.object, f.negated, f.current, f.text) for f in m.facts("u", current_only=False)}


def test_an_anymore_in_another_clause_does_not_reverse_a_like(db_target: str) -> None:
    facts = _facts(db_target, "I like sushi", "I love sushi but I don't eat meat anymore")
    assert facts == {
        ("likes", "sushi", False, True, "The user likes sushi."),
        ("habit", "eat meat", True, True, "The user no longer eats meat."),  # its own clause's reversal
    }


def test_moving_from_york_to_new_york(db_target: str) -> None:
    facts = _facts(db_target, "I live in York", "I live in New York")
    assert facts == {
        ("lives_in", "York", False, False, "The user lives in York."),
        ("lives_in", "New York", False, True, "The user lives in New York."),
    }


@pytest.mark.parametrize(
    "sentence",
    [
        "If Maria lives in Berlin, she can host us.",
        "I doubt Tom works at Google.",
        "Maybe Sara lives in Oslo.",
        "do i like sushi",
        "Suppose I live in Rome.",
        "Imagine I work at Google.",
    ],
)
def test_hypotheticals_and_questions_leave_no_facts(db_target: str, sentence: str) -> None:
    assert _facts(db_target, sentence) == set()


def test_not_living_somewhere_reads_as_such(db_target: str) -> None:
    facts = _facts(db_target, "I don't live in Vienna")
    assert facts == {("lives_in", "Vienna", True, True, "The user does not live in Vienna.")}


def test_loving_what_one_hated_closes_the_dislike(db_target: str) -> None:
    facts = _facts(db_target, "I hate sushi", "I love sushi")
    assert facts == {
        ("dislikes", "sushi", False, False, "The user dislikes sushi."),
        ("likes", "sushi", False, True, "The user likes sushi."),
    }


def test_a_like_or_a_plan_that_ended_closes_it_and_an_alternative_is_its_own(db_target: str) -> None:
    facts = _facts(
        db_target,
        "I love sushi.",
        "I'm not a fan of sushi anymore.",
        "I plan to visit Kyoto next year.",
        "I no longer plan to visit Kyoto.",
        "I'm planning to visit Osaka instead of Kyoto.",
    )
    current = {(p, o, n) for p, o, n, cur, _ in facts if cur}
    assert current == {("likes", "sushi", True), ("plans", "visit Kyoto", True), ("plans", "visit Osaka", False)}


def test_a_new_employer_closes_the_one_named_with_the_old_job(db_target: str) -> None:
    facts = _facts(
        db_target,
        "I work as a nurse at Santo António hospital",
        "I now work as a data analyst at Feedzai.",
        "I got a new job at Booking.com as a senior data scientist",
    )
    current = {(p, o) for p, o, _, cur, _ in facts if cur}
    assert current == {("works_as", "a senior data scientist"), ("works_at", "Booking.com")}


def test_an_ended_possession_or_job_closes_it(db_target: str) -> None:
    facts = _facts(
        db_target,
        "My dog Rex loves the park.",
        "I'm a nurse.",
        "I don't have a dog anymore.",
        "I'm not a nurse anymore.",
    )
    current = {(p, o, n) for p, o, n, cur, _ in facts if cur}
    assert current == {("has", "a dog", True), ("works_as", "a nurse", True)}
