"""What the memory knew at an earlier moment.

A search with ``now`` in the past sees only what had happened by then; the
facts put before the evidence must match it, or a question asked "in 2022"
gets the 2023 answer. Facts keep no record of when they were first stated,
only when last (``last_seen``) and how often (``seen``), so a fact said once
after ``now`` is left out, and one closed by such a fact reads as current.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from hippodex.model import Fact


def facts_as_of(facts: Sequence[Fact], now: datetime) -> list[Fact]:
    """The facts as they stood at ``now``, in the order given.

    >>> from datetime import UTC
    >>> t = lambda y: datetime(y, 1, 1, tzinfo=UTC)
    >>> porto = Fact("f1", "ana", "user", "lives_in", "Porto", "The user lives in Porto.", 0.9, t(2024), t(2022),
    ...              valid_from=t(2022), valid_to=t(2023), superseded_by="f2")
    >>> lisbon = Fact("f2", "ana", "user", "lives_in", "Lisbon", "The user lives in Lisbon.", 0.9, t(2024), t(2023),
    ...               valid_from=t(2023))
    >>> [(f.object, f.current) for f in facts_as_of([porto, lisbon], t(2022))]
    [('Porto', True)]
    >>> [(f.object, f.current) for f in facts_as_of([porto, lisbon], t(2024))]
    [('Porto', False), ('Lisbon', True)]
    """
    known = {f.id: f for f in facts if _said_by(f, now)}
    return [f if f.current or not _closed_later(f, known, now) else _reopened(f) for f in known.values()]


def _said_by(fact: Fact, now: datetime) -> bool:
    """Whether the memory had heard the fact by ``now`` (if said more than once, the first may be earlier)."""
    return fact.seen > 1 or fact.last_seen <= now


def _closed_later(fact: Fact, known: dict[str, Fact], now: datetime) -> bool:
    """Whether what closed the fact came after ``now``."""
    if fact.superseded_by is not None:
        return fact.superseded_by not in known
    return fact.valid_to is not None and fact.valid_to > now


def _reopened(fact: Fact) -> Fact:
    return replace(fact, valid_to=None, superseded_by=None)
