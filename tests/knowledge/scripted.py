"""A scripted fact extractor for consolidation tests: each content string maps to
the claims it makes, so a test states exactly what was said and checks what the
memory made of it (rule quality is tested separately, in tests/extract)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from hippodex.extract import FactCandidate

SINGLE = {"lives_in", "works_at", "works_as", "age", "name", "status"}


def claim(
    subject: str, predicate: str, obj: str, *, negated: bool = False, valid_from: datetime | None = None
) -> FactCandidate:
    verb = {"lives_in": "lives in", "works_at": "works at", "likes": "likes", "works_as": "works as"}.get(
        predicate, predicate
    )
    text = f"{subject} {'does not ' if negated else ''}{verb} {obj}."
    return FactCandidate(subject, predicate, obj, text, 0.8, negated, valid_from, predicate in SINGLE)


class Scripted:
    name = "scripted"

    def __init__(self, script: Mapping[str, Sequence[FactCandidate]]) -> None:
        self.script = script

    def extract(self, content: str, *, speaker: str | None, role: str, occurred_at: datetime) -> list[FactCandidate]:
        return list(self.script.get(content, ()))
