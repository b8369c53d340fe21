"""The offline pass ("sleep") behind :meth:`hippodex.Memory.consolidate`.

Per user: learn what was not learned yet, merge facts that say the same
thing, write extractive session summaries, and recount entity mentions.
Every step commits on its own and does nothing the second time, so the pass
can be interrupted, re-run, and run while the memory serves reads and writes.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from hippodex.extract import FactExtractor
from hippodex.knowledge.consolidate import same_object, slot
from hippodex.knowledge.learn import EntityExtractor, LearningTx, LearnReport, learn
from hippodex.model import Episode, Fact

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class SleepTx(Protocol):
    """The writes of a sleep pass, inside one transaction of one user."""

    def current_facts(self) -> list[Fact]: ...
    def merge(self, keep: str, duplicate: str, at: datetime) -> None: ...
    def set_summary(self, session_id: str, summary: str, episode_ids: Sequence[str], at: datetime) -> bool: ...
    def refresh_entities(self) -> int: ...


class SleepStore(Protocol):
    def users(self) -> list[str]: ...
    def learn_cursor(self, user_id: str) -> int: ...
    def episodes_after(self, user_id: str, rowid: int, limit: int) -> list[tuple[int, Episode]]: ...
    def learning(self, user_id: str) -> AbstractContextManager[LearningTx]: ...
    def sleeping(self, user_id: str) -> AbstractContextManager[SleepTx]: ...


@dataclass
class SleepReport:
    """What a consolidation pass did, and how long it took."""

    users: int = 0
    learned: LearnReport = field(default_factory=LearnReport)
    merged: int = 0
    summaries: int = 0
    entities_recounted: int = 0
    retiered: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of the counts."""
        return {
            "users": self.users,
            "episodes_learned": self.learned.episodes,
            "facts_added": self.learned.added,
            "facts_reinforced": self.learned.reinforced,
            "facts_superseded": self.learned.superseded,
            "facts_disputed": self.learned.disputed,
            "mentions": self.learned.mentions,
            "unavailable": self.learned.unavailable,
            "facts_merged": self.merged,
            "summaries": self.summaries,
            "entities_recounted": self.entities_recounted,
            "vectors_retiered": self.retiered,
            "errors": list(self.learned.errors),
            "seconds": round(self.seconds, 3),
        }


def duplicates(facts: Sequence[Fact]) -> list[tuple[str, str]]:
    """``(keep, duplicate)`` pairs among current facts that say the same thing
    (same slot, polarity and object); the earliest recorded one is kept."""
    groups: dict[tuple[str, str, bool], list[Fact]] = {}
    for f in sorted(facts, key=lambda f: (f.recorded_at, f.id)):
        if f.current:
            groups.setdefault((*slot(f.subject, f.predicate), f.negated), []).append(f)
    pairs = []
    for group in groups.values():
        kept: list[Fact] = []
        for f in group:
            keep = next((k for k in kept if same_object(k.object, f.object)), None)
            if keep is None:
                kept.append(f)
            else:
                pairs.append((keep.id, f.id))
    return pairs


def extractive_summary(texts: Sequence[str], n: int = 3) -> list[int]:
    """Indexes (in order) of the ``n`` turns most central to a session: those whose
    words the rest of the session repeats most, normalised for length.

    >>> extractive_summary(["we planned the trip to Rome", "ok", "the Rome trip is in May"], n=2)
    [0, 2]
    """
    bags = [Counter(w for w in _WORD.findall(t.casefold()) if len(w) > 2) for t in texts]
    total: Counter[str] = Counter()
    for bag in bags:
        total.update(set(bag))
    scores = []
    for i, bag in enumerate(bags):
        shared = sum(total[w] - 1 for w in bag)  # other turns using the same words
        scores.append((shared / (1 + len(bag)) ** 0.5, -i))
    best = sorted(range(len(texts)), key=lambda i: scores[i], reverse=True)[:n]
    return sorted(i for i in best if scores[i][0] > 0) or sorted(best[:1])


def summarise_sessions(episodes: Sequence[Episode], n: int = 3) -> dict[str, tuple[str, list[str]]]:
    """Per session: an extractive summary (its most central turns) and their ids."""
    by_session: dict[str, list[Episode]] = {}
    for ep in episodes:
        by_session.setdefault(ep.session_id, []).append(ep)
    out = {}
    for session, eps in by_session.items():
        eps.sort(key=lambda e: e.seq)
        picked = [eps[i] for i in extractive_summary([e.content for e in eps], n)]
        text = " / ".join(f"{e.speaker or e.role}: {' '.join(e.content.split())}" for e in picked)
        out[session] = (text, [e.id for e in picked])
    return out


def sleep(
    store: SleepStore,
    extractor: FactExtractor | None,
    entities: EntityExtractor | None,
    *,
    user_id: str | None = None,
) -> SleepReport:
    """Consolidate one user's memory, or everyone's (see the module docstring)."""
    start = time.perf_counter()
    report = SleepReport()
    waiting = 0
    for user in [user_id] if user_id is not None else store.users():
        report.users += 1
        # Retry a failed extractor once per pass, not once per user.
        learned = learn(store, user, extractor, entities, force=not report.learned.unavailable)
        waiting += learned.unavailable and not learned.errors
        report.learned.merge(learned)
        now = datetime.now(UTC)
        with store.sleeping(user) as tx:
            for keep, dup in duplicates(tx.current_facts()):
                tx.merge(keep, dup, now)
                report.merged += 1
        history: list[Episode] = []
        cursor = 0
        while rows := store.episodes_after(user, cursor, 2000):
            history.extend(ep for _, ep in rows)
            cursor = rows[-1][0]
        with store.sleeping(user) as tx:
            for session, (text, ids) in summarise_sessions(history).items():
                report.summaries += tx.set_summary(session, text, ids, now)
            report.entities_recounted += tx.refresh_entities()
    if waiting:
        report.learned.errors.append(
            f"{waiting} more user(s) not learned: the extractor failed earlier in this pass; consolidate() again"
        )
    report.seconds = time.perf_counter() - start
    return report
