"""Read new episodes for facts and entities, and consolidate them into what is known.

Learning follows a per-user cursor (the last episode read), so it resumes
after a crash and never reads an episode twice. Extraction (which may call an
LLM) runs outside any transaction; the writes of a batch, with the cursor
move, commit together.

When the extractor itself fails (unreachable, timed out, an HTTP error, a
configuration error; see :data:`RETRY_LATER`), learning stops before that
episode: what came before it is kept, the cursor stays, and the next pass
retries it. Between :func:`learn` calls made without ``force`` (those after
``add``), an extractor that just failed is left alone for :data:`RETRY_PAUSE`
seconds, so writes stay fast while an endpoint is down. Any other extractor
error (an unusable model reply, a bug) is reported and the episode is learned
as having no facts, so one bad episode never blocks the rest.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from hippodex._exceptions import ConfigError
from hippodex.extract import EntityMention, FactCandidate, FactExtractor, LLMExtractor
from hippodex.extract.llm import MAX_FACTS, ExtractorUnavailable
from hippodex.knowledge.consolidate import decide, slot, slot_predicates
from hippodex.model import Episode, Fact

EntityExtractor = Callable[[str, str | None], list[EntityMention]]

log = logging.getLogger("hippodex.knowledge.learn")

#: Extractor errors that say nothing about the episode: learning stops before
#: it and retries later (an ``OSError`` covers network errors of any extractor).
RETRY_LATER: tuple[type[BaseException], ...] = (ExtractorUnavailable, ConfigError, OSError)
#: Seconds learning on ``add`` leaves an extractor alone after it failed that way.
RETRY_PAUSE = 60.0

_paused_until: weakref.WeakKeyDictionary[object, float] = weakref.WeakKeyDictionary()
_pause_lock = threading.Lock()


class LearningTx(Protocol):
    """The writes learning needs, inside one transaction of one user."""

    def slot_facts(self, subject_key: str, predicate: str) -> list[Fact]: ...
    def insert_fact(self, fact: Fact) -> None: ...
    def reinforce(self, fact_id: str, episode_id: str, confidence: float, at: datetime) -> bool: ...
    def close_fact(self, fact_id: str, valid_to: datetime | None, superseded_by: str) -> None: ...
    def log(
        self, fact_id: str, action: str, at: datetime, episode_id: str | None = None, other_id: str | None = None
    ) -> None: ...
    def entity(self, canonical: str, name: str, kind: str, at: datetime) -> int: ...
    def mention(self, entity_id: int, episode_rowid: int) -> None: ...
    def link(self, fact_id: str, entity_id: int) -> None: ...
    def cursor(self) -> int: ...
    def present(self, episode_ids: Sequence[str]) -> set[str]: ...
    def advance(self, last_rowid: int) -> None: ...


@dataclass
class LearnReport:
    """What a learning pass did."""

    episodes: int = 0
    added: int = 0
    reinforced: int = 0
    superseded: int = 0
    disputed: int = 0
    mentions: int = 0
    errors: list[str] = field(default_factory=list)
    #: Learning stopped early because the extractor failed; a later pass resumes there.
    unavailable: bool = False

    def merge(self, other: LearnReport) -> None:
        """Add another report's counts to this one."""
        for name in ("episodes", "added", "reinforced", "superseded", "disputed", "mentions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
        self.unavailable = self.unavailable or other.unavailable


def new_fact_id() -> str:
    """A 32-hex id that sorts by creation time, like episode ids."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def expand(candidate: FactCandidate) -> list[FactCandidate]:
    """A claim with the claims it implies: a move also sets where one lives."""
    out = [candidate]
    if candidate.predicate == "moved_to" and not candidate.negated:
        out.append(
            replace(
                candidate,
                predicate="lives_in",
                single_valued=True,
                text=candidate.text.replace(" moved to ", " lives in "),
            )
        )
    return out


def _utc(when: datetime | None) -> datetime | None:
    """Extractors may give naive times; like every time in hippodex, naive means UTC."""
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def asserted_by(episode: Episode) -> str:
    """Who stated an episode's claims: its speaker, else its role."""
    return episode.speaker.strip() if episode.speaker and episode.speaker.strip() else episode.role


def apply_claim(tx: LearningTx, claim: FactCandidate, episode: Episode, extractor: str, report: LearnReport) -> str:
    """Consolidate one claim into the user's facts; returns the id of the fact it added or reinforced."""
    now = datetime.now(UTC)
    subject_key, predicate = slot(claim.subject, claim.predicate)
    at = _utc(claim.valid_from) or episode.occurred_at
    speaker = asserted_by(episode)
    # Its own predicate's facts and its opposite's ("I love sushi" closes "I hate sushi").
    existing = [f for p in slot_predicates(predicate) for f in tx.slot_facts(subject_key, p)]
    plan = decide(claim, at, speaker, existing)
    if plan.action == "reinforce" and plan.target is not None:
        if tx.reinforce(plan.target, episode.id, claim.confidence, episode.occurred_at):
            tx.log(plan.target, "reinforced", now, episode.id)
            report.reinforced += 1
            _close(tx, plan.closes, at, plan.target, now, episode.id, report)
        return plan.target
    fact = Fact(
        id=new_fact_id(),
        user_id=episode.user_id,
        subject=claim.subject.strip(),
        predicate=predicate,
        object=claim.object.strip(),
        text=claim.text.strip(),
        confidence=float(claim.confidence),
        recorded_at=now,
        last_seen=episode.occurred_at,
        sources=(episode.id,),
        negated=claim.negated,
        single_valued=claim.single_valued,
        asserted_by=speaker,
        valid_from=at,
        valid_to=plan.closed_at,
        superseded_by=plan.closed_by,
        extractor=extractor,
    )
    tx.insert_fact(fact)
    tx.log(fact.id, "added", now, episode.id)
    report.added += 1
    if plan.closed_by is not None:  # an older statement, already overtaken
        tx.log(fact.id, "superseded", now, episode.id, plan.closed_by)
    _close(tx, plan.closes, at, fact.id, now, episode.id, report)
    if plan.disputes is not None:
        tx.log(fact.id, "disputes", now, episode.id, plan.disputes)
        tx.log(plan.disputes, "disputed", now, episode.id, fact.id)
        report.disputed += 1
    return fact.id


def _close(
    tx: LearningTx, ids: Sequence[str], at: datetime, by: str, now: datetime, episode_id: str, report: LearnReport
) -> None:
    for old in ids:
        tx.close_fact(old, at, by)
        tx.log(old, "superseded", now, episode_id, by)
        report.superseded += 1


def learn_batch(
    tx: LearningTx,
    batch: Sequence[tuple[int, Episode, list[FactCandidate], list[EntityMention]]],
    extractor: str,
) -> LearnReport:
    """Write what was extracted from a batch of episodes (skipping any another
    process learned meanwhile) and move the cursor past them."""
    report = LearnReport()
    done = tx.cursor()
    # Extraction ran outside the transaction: skip episodes deleted meanwhile,
    # so nothing is derived from what the user already removed.
    present = tx.present([episode.id for _, episode, _, _ in batch])
    for rowid, episode, claims, mentions in batch:
        if rowid <= done or episode.id not in present:
            continue
        report.episodes += 1
        entity_ids: dict[str, int] = {}
        for m in mentions:
            if m.canonical not in entity_ids:
                entity_ids[m.canonical] = tx.entity(m.canonical, m.name, m.kind, episode.occurred_at)
                tx.mention(entity_ids[m.canonical], rowid)
                report.mentions += 1
        for claim in (c for original in claims for c in expand(original)):
            fact_id = apply_claim(tx, claim, episode, extractor, report)
            text = f"{claim.subject} {claim.object}".casefold()
            for canonical, eid in entity_ids.items():
                if canonical in text:
                    tx.link(fact_id, eid)
    if batch:
        tx.advance(max(done, batch[-1][0]))
    return report


class LearningStore(Protocol):
    """The store side of learning (SQLite and PostgreSQL both provide it)."""

    def learn_cursor(self, user_id: str) -> int: ...
    def episodes_after(self, user_id: str, rowid: int, limit: int) -> list[tuple[int, Episode]]: ...
    def learning(self, user_id: str) -> AbstractContextManager[LearningTx]: ...


def learn(
    store: LearningStore,
    user_id: str,
    extractor: FactExtractor | None,
    entities: EntityExtractor | None,
    *,
    batch_size: int = 256,
    force: bool = False,
) -> LearnReport:
    """Read every episode of ``user_id`` after its cursor, in batches.

    A failing extractor never corrupts memory (see the module docstring).
    ``force`` calls an extractor even within :data:`RETRY_PAUSE` of its last
    failure (``consolidate()`` does; learning after ``add`` does not).
    """
    report = LearnReport()
    cursor = store.learn_cursor(user_id)
    if extractor is not None and not force and _paused(extractor):
        log.debug("learning for %r waits: the extractor failed less than %g s ago", user_id, RETRY_PAUSE)
        report.unavailable = bool(store.episodes_after(user_id, cursor, 1))
        return report
    name = extractor.name if extractor is not None else "none"
    while True:
        rows = store.episodes_after(user_id, cursor, batch_size)
        if not rows:
            return report
        batch = []
        for rowid, episode in rows:
            try:
                claims = _claims(extractor, episode, report)
            except RETRY_LATER as exc:
                report.errors.append(
                    f"{episode.id}: not learned yet, retried on the next pass: {type(exc).__name__}: {exc}"
                )
                report.unavailable = True
                break
            mentions = entities(episode.content, episode.speaker) if entities is not None else []
            batch.append((rowid, episode, claims, mentions))
        if batch:  # the episodes before a failure stay learned
            with store.learning(user_id) as tx:
                report.merge(learn_batch(tx, batch, name))
        if extractor is not None:
            _pause(extractor, report.unavailable)
        if report.unavailable:
            return report
        cursor = rows[-1][0]


def _claims(extractor: FactExtractor | None, episode: Episode, report: LearnReport) -> list[FactCandidate]:
    """What ``extractor`` claims ``episode`` says, at most :data:`MAX_FACTS` of it.

    Raises :data:`RETRY_LATER` errors; reports any other error and returns ``[]``.
    """
    if extractor is None:
        return []
    ep = episode
    try:
        if isinstance(extractor, LLMExtractor):  # it can say more than extract() does
            result = extractor.extract_all(ep.content, speaker=ep.speaker, role=ep.role, occurred_at=ep.occurred_at)
            if result.error is not None:
                report.errors.append(f"{episode.id}: UnusableReply: {result.error}")
            if result.truncated:
                report.errors.append(
                    f"{episode.id}: the reply held {result.truncated} item(s) past the cap; kept {MAX_FACTS} facts"
                )
            claims = result.facts
        else:
            claims = extractor.extract(ep.content, speaker=ep.speaker, role=ep.role, occurred_at=ep.occurred_at)
    except RETRY_LATER:
        raise
    except Exception as exc:  # a bad reply or an extractor bug must not stop memory
        report.errors.append(f"{episode.id}: {type(exc).__name__}: {exc}")
        return []
    if len(claims) > MAX_FACTS:  # bounds the work of one write transaction, whatever the extractor
        report.errors.append(f"{episode.id}: the extractor gave {len(claims)} facts; kept the first {MAX_FACTS}")
        claims = claims[:MAX_FACTS]
    return claims


def _paused(extractor: object) -> bool:
    with _pause_lock:
        try:
            until = _paused_until.get(extractor)
        except TypeError:  # not weak-referenceable or not hashable: never paused
            return False
    return until is not None and time.monotonic() < until


def _pause(extractor: object, failed: bool) -> None:
    with _pause_lock:
        try:
            if failed:
                _paused_until[extractor] = time.monotonic() + RETRY_PAUSE
            else:
                _paused_until.pop(extractor, None)
        except TypeError:
            pass
