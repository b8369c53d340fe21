"""The fact-extraction metric on hand-made cases."""

from __future__ import annotations

import pytest

from hippodex.extract.evaluate import LabelledFact, content_tokens, labels_of, matches, object_f1, score_all
from hippodex.extract.types import FactCandidate


def _c(subject: str, predicate: str, obj: str, negated: bool = False) -> FactCandidate:
    return FactCandidate(subject, predicate, obj, "", 0.5, negated)


def test_content_tokens_drop_stop_words_and_plurals() -> None:
    assert content_tokens("The kids' dogs named Max") == {"kid", "dog", "max"}
    assert content_tokens("a glass") == {"glass"}


@pytest.mark.parametrize(
    ("a", "b", "f1"),
    [
        ("Lisbon", "lisbon", 1.0),
        ("a dog named Max", "dog named Max", 1.0),
        ("took a solo trip", "took a solo trip in Spain", 6 / 7),
        ("Spain", "solo trip in Spain", 0.5),
        ("Paris", "Lisbon", 0.0),
        ("", "the", 1.0),
        ("", "Lisbon", 0.0),
    ],
)
def test_object_f1(a: str, b: str, f1: float) -> None:
    assert object_f1(a, b) == pytest.approx(f1)


def test_match_needs_subject_predicate_negation_and_object() -> None:
    label = LabelledFact("Ana", "lives_in", "Lisbon, Portugal")
    assert matches(_c("ana", "lives_in", "Lisbon"), label)  # F1 2/3
    assert not matches(_c("Bea", "lives_in", "Lisbon"), label)
    assert not matches(_c("Ana", "moved_to", "Lisbon"), label)
    assert not matches(_c("Ana", "lives_in", "Lisbon", negated=True), label)
    assert not matches(_c("Ana", "lives_in", "Porto"), label)


def test_precision_recall_and_per_predicate_counts() -> None:
    turns = [
        ([_c("u", "likes", "jazz"), _c("u", "likes", "it all")], [LabelledFact("u", "likes", "jazz")]),
        ([], [LabelledFact("u", "has", "a cat")]),
        ([_c("u", "did", "went to Rome")], []),
        # Two candidates for one label: both correct, the label matched once.
        (
            [_c("u", "plans", "visit Japan"), _c("u", "plans", "visit Japan soon")],
            [LabelledFact("u", "plans", "visit Japan")],
        ),
    ]
    s = score_all(turns)
    assert (s.extracted, s.correct, s.labelled, s.matched) == (5, 3, 3, 2)
    assert s.precision == pytest.approx(3 / 5) and s.recall == pytest.approx(2 / 3)
    d = s.as_dict()
    assert d["by_predicate"]["likes"] == {
        "extracted": 2,
        "correct": 1,
        "labelled": 1,
        "matched": 1,
        "precision": 0.5,
        "recall": 1.0,
    }
    assert d["by_predicate"]["has"]["precision"] is None and d["by_predicate"]["has"]["recall"] == 0.0


def test_empty_score_is_zero_not_an_error() -> None:
    s = score_all([])
    assert (s.precision, s.recall) == (0.0, 0.0)


def test_labels_of_a_row() -> None:
    row = {"facts": [{"subject": "Ana", "predicate": "likes", "object": "jazz"}]}
    assert labels_of(row) == [LabelledFact("Ana", "likes", "jazz", False)]
    assert labels_of({"facts": []}) == []
