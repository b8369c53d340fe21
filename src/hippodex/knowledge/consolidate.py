"""What a newly extracted claim does to the facts already known: a pure decision.

The rules, in order (``t`` is when the claim became true: its own
``valid_from``, else the time of the episode that stated it):

1. Same subject, predicate and object (by :func:`same_object`) as a current
   fact with the same polarity: **reinforce** it (another source, ``seen + 1``);
   the subject confirming a disputed value closes its rival.
2. Same object, opposite polarity ("I like sushi" then "I don't like sushi
   any more"), or the opposite sentiment ("I hate sushi" then "I love
   sushi", see :data:`OPPOSITES`): the newer statement **supersedes** the
   older; a claim older than the fact it contradicts is recorded as already
   superseded by it.
3. A single-valued slot (where one lives, works, one's age) with a different
   value: the claim closes the value that held the slot at time ``t`` and is
   itself closed by the first later value, if one is known (episodes can
   arrive out of order, so a late-told old job lands in history, in place).
   A third party's claim never overrides what the subject said of
   themselves: both stay current and the new one is marked **disputed**.
4. Anything else is **added** (many-valued slots such as likes accumulate).

Nothing is overwritten or deleted: closing a fact sets ``valid_to`` and
``superseded_by`` and the store logs an event.

Objects compare by :func:`same_object`: "Lisbon" is "Lisbon, Portugal" and
"a dog" is "my dog", but "York" is not "New York".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from hippodex.model import Fact

#: Predicate spellings an LLM may use for a slot of the rule vocabulary.
PREDICATE_ALIASES = {"lives": "lives_in", "location": "lives_in", "job": "works_as", "occupation": "works_as"}
#: Predicates whose positive facts contradict each other about one object.
OPPOSITES = {"likes": "dislikes", "dislikes": "likes"}

_NOISE = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "our",
        "his",
        "her",
        "their",
        "your",
        "its",
        "to",
        "in",
        "at",
        "of",
        "on",
        "for",
        "with",
        "and",
    ]
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class Claim(Protocol):
    """What an extractor proposes (``hippodex.extract.FactCandidate`` is one)."""

    @property
    def subject(self) -> str: ...
    @property
    def predicate(self) -> str: ...
    @property
    def object(self) -> str: ...
    @property
    def negated(self) -> bool: ...
    @property
    def single_valued(self) -> bool: ...


@dataclass(frozen=True)
class Plan:
    """The outcome for one claim.

    ``action`` is ``"reinforce"`` (``target`` gains a source; nothing new is
    stored) or ``"add"`` (a new fact). An added fact closes the facts in
    ``closes`` at its own time, or is itself closed at ``closed_at`` by
    ``closed_by`` when a newer fact already holds the slot. ``disputes`` names a
    current fact it contradicts without overriding.
    """

    action: str
    target: str | None = None
    closes: tuple[str, ...] = ()
    closed_by: str | None = None
    closed_at: datetime | None = None
    disputes: str | None = None


def slot(subject: str, predicate: str) -> tuple[str, str]:
    """The key facts are compared under: casefolded subject, canonical predicate.

    >>> slot(" Ana", "Occupation")
    ('ana', 'works_as')
    """
    pred = predicate.strip().casefold()
    return subject.strip().casefold(), PREDICATE_ALIASES.get(pred, pred)


def slot_predicates(predicate: str) -> tuple[str, ...]:
    """The predicates whose facts :func:`decide` must see for a claim: its own and its opposite.

    >>> slot_predicates("Likes"), slot_predicates("lives")
    (('likes', 'dislikes'), ('lives_in',))
    """
    pred = slot("", predicate)[1]
    return (pred, OPPOSITES[pred]) if pred in OPPOSITES else (pred,)


@functools.lru_cache(maxsize=65_536)  # each claim is compared with every value of its slot
def object_tokens(text: str) -> frozenset[str]:
    """Content words of a fact's object, casefolded, without articles and possessives."""
    return frozenset(w for w in _WORD.findall(text.casefold()) if w not in _NOISE)


def _named_in_front(larger: str, shared: frozenset[str]) -> bool:
    """Whether ``larger`` puts a capitalised word before the words it shares with the
    other object: part of a longer proper name ("New York", "South Africa")."""
    for word in _WORD.findall(larger):
        if word.casefold() in shared:
            return False
        if word.casefold() not in _NOISE and word[0].isupper():
            return True
    return False


def same_object(a: str, b: str) -> bool:
    """Whether two objects name the same thing: the same words, one's words within
    the other's, or most words shared.

    Words after the shared ones qualify ("Lisbon, Portugal", "hiking with friends")
    and lowercase words describe ("my best friend"); a capitalised word in front
    makes another name, so "York" is not "New York".

    >>> same_object("Lisbon", "Lisbon, Portugal"), same_object("a dog", "a cat")
    (True, False)
    >>> same_object("York", "New York")
    False
    """
    ta, tb = object_tokens(a), object_tokens(b)
    if not ta or not tb:
        return a.strip().casefold() == b.strip().casefold()
    if ta == tb:
        return True
    if ta < tb or tb < ta:
        small, large_text = (ta, b) if ta < tb else (tb, a)
        return not _named_in_front(large_text, small)
    return len(ta & tb) / len(ta | tb) >= 0.6


def _self_report(fact_subject: str, asserted_by: str | None) -> bool:
    return asserted_by is not None and asserted_by.strip().casefold() == fact_subject.strip().casefold()


def decide(claim: Claim, at: datetime, asserted_by: str | None, existing: Sequence[Fact]) -> Plan:
    """Decide what ``claim`` (true from ``at``, said by ``asserted_by``) does to
    ``existing`` facts of its subject under :func:`slot_predicates` (see the module
    docstring for the rules)."""
    pred = slot(claim.subject, claim.predicate)[1]
    own = [f for f in existing if slot(f.subject, f.predicate)[1] == pred]
    plan = _decide_slot(claim, at, asserted_by, own)
    if claim.negated or pred not in OPPOSITES:
        return plan
    opposed = [
        f
        for f in existing
        if f.current
        and not f.negated
        and slot(f.subject, f.predicate)[1] == OPPOSITES[pred]
        and same_object(f.object, claim.object)
    ]
    # Like a reversal within one predicate: the newer sentiment closes the older.
    older = tuple(f.id for f in opposed if f.valid_from is None or f.valid_from <= at)
    newer = [f for f in opposed if f.valid_from is not None and f.valid_from > at]
    plan = replace(plan, closes=plan.closes + older)
    if newer and plan.action == "add" and plan.closed_by is None:  # told late: already overtaken
        first = min(newer, key=lambda f: f.valid_from or at)
        plan = replace(plan, closed_by=first.id, closed_at=first.valid_from)
    return plan


def _decide_slot(claim: Claim, at: datetime, asserted_by: str | None, existing: Sequence[Fact]) -> Plan:
    """Rules 1-4 within the claim's own predicate."""
    current = [f for f in existing if f.current]
    match = next((f for f in current if same_object(f.object, claim.object)), None)
    if match is not None:
        if match.negated == claim.negated:
            # The subject confirming a disputed value settles the dispute.
            settles = claim.single_valued and not claim.negated and _self_report(claim.subject, asserted_by)
            others = tuple(f.id for f in current if settles and f is not match and not f.negated)
            return Plan("reinforce", target=match.id, closes=others)
        if match.valid_from is not None and at < match.valid_from:
            return Plan("add", closed_by=match.id, closed_at=match.valid_from)
        return Plan("add", closes=(match.id,))
    if not claim.single_valued or claim.negated:
        return Plan("add")
    rivals = [f for f in current if not f.negated]
    if rivals and not _self_report(claim.subject, asserted_by):
        held = next((f for f in rivals if _self_report(f.subject, f.asserted_by)), None)
        if held is not None:
            return Plan("add", disputes=held.id)
    # Bi-temporal placement: the claim closes whatever held the slot at its time,
    # and is itself closed by the first value known to come after it.
    # (a merged duplicate points at its twin without a valid_to: not a value of its own)
    other = [
        f
        for f in existing
        if not f.negated and (f.current or f.valid_to is not None) and not same_object(f.object, claim.object)
    ]
    spanning = tuple(
        f.id for f in other if (f.valid_from is None or f.valid_from <= at) and (f.valid_to is None or f.valid_to > at)
    )
    newer = sorted(
        (f for f in other if f.valid_from is not None and f.valid_from > at), key=lambda f: f.valid_from or at
    )
    if newer:
        return Plan("add", closes=spanning, closed_by=newer[0].id, closed_at=newer[0].valid_from)
    return Plan("add", closes=spanning)
