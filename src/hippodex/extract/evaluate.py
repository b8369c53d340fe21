"""Precision and recall of extracted facts against hand-labelled ones.

A candidate is correct when a labelled fact of the same turn has the same
subject (case-insensitive), the same predicate, the same ``negated`` flag, and
an object whose content tokens overlap the candidate's with a token F1 (Dice)
of at least :data:`OBJECT_F1` (0.5, the usual bar of SQuAD/LoCoMo-style
answer matching). Content tokens are lower-cased words with stop words and
possessive endings removed and a plural ``s`` stripped, so "a dog named Max"
matches "dog named max" and "the kids" matches "kids".

precision = correct candidates / candidates; recall = labelled facts matched
by some candidate / labelled facts. Pure functions, so hand-made cases test them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hippodex.extract.lexicon import words
from hippodex.extract.types import FactCandidate

OBJECT_F1 = 0.5

STOPWORDS = words(
    """a an the my your his her their our its of to in on at for with and or but by from as is are was were be been
    it this that these those some any me i we you he she they them him us up out about into over just so very really
    all more most also too named called"""
)
_WORD = re.compile(r"[a-z0-9@]+")


@dataclass(frozen=True)
class LabelledFact:
    """A fact a person wrote down for a turn."""

    subject: str
    predicate: str
    object: str
    negated: bool = False


@dataclass
class Score:
    """Counts for one group of turns, with precision and recall derived."""

    extracted: int = 0
    correct: int = 0
    labelled: int = 0
    matched: int = 0
    by_predicate: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.correct / self.extracted if self.extracted else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.labelled if self.labelled else 0.0

    def as_dict(self) -> dict[str, Any]:
        preds = {
            p: {
                **c,
                "precision": c["correct"] / c["extracted"] if c["extracted"] else None,
                "recall": c["matched"] / c["labelled"] if c["labelled"] else None,
            }
            for p, c in sorted(self.by_predicate.items())
        }
        return {
            "extracted": self.extracted,
            "correct": self.correct,
            "labelled": self.labelled,
            "matched": self.matched,
            "precision": self.precision,
            "recall": self.recall,
            "by_predicate": preds,
        }


def content_tokens(text: str) -> set[str]:
    """Lower-cased content words, stop words dropped, plural ``s`` stripped.

    >>> sorted(content_tokens("Caroline's two dogs named Max"))
    ['caroline', 'dog', 'max', 'two']
    """
    out = set()
    for w in _WORD.findall(text.lower().replace("'s", "").replace("’s", "")):
        if w in STOPWORDS:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.add(w)
    return out


def object_f1(a: str, b: str) -> float:
    """Token F1 (Dice) of two objects' content tokens; 1.0 when both are empty.

    >>> object_f1("a dog named Max", "Max, a golden dog")
    0.8
    """
    ta, tb = content_tokens(a), content_tokens(b)
    if not ta and not tb:
        return 1.0
    if not ta or not tb:
        return 0.0
    return 2 * len(ta & tb) / (len(ta) + len(tb))


def matches(candidate: FactCandidate, label: LabelledFact, threshold: float = OBJECT_F1) -> bool:
    """Whether a candidate states the labelled fact (see the module docstring)."""
    return (
        candidate.subject.casefold() == label.subject.casefold()
        and candidate.predicate == label.predicate
        and candidate.negated == label.negated
        and object_f1(candidate.object, label.object) >= threshold
    )


def _bump(score: Score, predicate: str, key: str) -> None:
    counts = score.by_predicate.setdefault(predicate, {"extracted": 0, "correct": 0, "labelled": 0, "matched": 0})
    counts[key] += 1


def score_turn(
    score: Score,
    candidates: Sequence[FactCandidate],
    labels: Sequence[LabelledFact],
    threshold: float = OBJECT_F1,
) -> list[bool]:
    """Add one turn's counts to ``score``; return which candidates were correct."""
    verdicts = [any(matches(c, lab, threshold) for lab in labels) for c in candidates]
    for c, ok in zip(candidates, verdicts, strict=True):
        score.extracted += 1
        _bump(score, c.predicate, "extracted")
        if ok:
            score.correct += 1
            _bump(score, c.predicate, "correct")
    for lab in labels:
        score.labelled += 1
        _bump(score, lab.predicate, "labelled")
        if any(matches(c, lab, threshold) for c in candidates):
            score.matched += 1
            _bump(score, lab.predicate, "matched")
    return verdicts


def labels_of(row: Mapping[str, Any]) -> list[LabelledFact]:
    """The labelled facts of one row of ``facts_labelled.jsonl``."""
    return [
        LabelledFact(str(f["subject"]), str(f["predicate"]), str(f["object"]), bool(f.get("negated", False)))
        for f in row.get("facts") or []
    ]


def score_all(pairs: Iterable[tuple[Sequence[FactCandidate], Sequence[LabelledFact]]]) -> Score:
    """Score many turns at once.

    >>> from hippodex.extract.types import FactCandidate as F
    >>> s = score_all([([F("Ana", "lives_in", "Lisbon", "", 0.9)], [LabelledFact("ana", "lives_in", "lisbon")])])
    >>> (s.precision, s.recall)
    (1.0, 1.0)
    """
    score = Score()
    for candidates, labels in pairs:
        score_turn(score, candidates, labels)
    return score
