"""Prompt-ready context: what is known (current facts, dated), then recalled
evidence, dated and in order, within a token budget."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from hippodex.knowledge.consolidate import object_tokens
from hippodex.knowledge.decay import DecayConfig
from hippodex.model import Episode, Fact, Hit

#: Questions about change, where superseded facts are part of the answer.
_CHANGE = re.compile(
    r"\b(used to|before|previous(ly)?|former(ly)?|originally|at first|first time|change[ds]?|moved|switch(ed)?|"
    r"no longer|any ?more|still|history|earlier|past|was|were|did)\b",
    re.IGNORECASE,
)


def asks_about_change(query: str) -> bool:
    """Whether a question is about how things were or changed.

    >>> asks_about_change("Where did Ana live before Lisbon?"), asks_about_change("Where does Ana live?")
    (True, False)
    """
    return bool(_CHANGE.search(query))


def _stems(text: str) -> frozenset[str]:
    """Content words cut to four letters: a crude stemmer ("lives", "living" -> "live", "livi")
    that is enough to match a question's words to a fact's."""
    return frozenset(w[:4] for w in object_tokens(text))


def relevant_facts(
    query: str,
    facts: Sequence[Fact],
    hits: Sequence[Hit] = (),
    *,
    now: datetime,
    limit: int = 12,
    decay: DecayConfig | None = None,
) -> list[Fact]:
    """Facts worth putting before the evidence: those sharing words with the
    question or stated by a recalled episode, strongest first. Superseded ones
    only when the question is about change.

    Strength is the forgetting curve of :mod:`hippodex.knowledge.decay`:
    confidence times retention since the fact was last stated or recalled,
    with one more repetition for each time it was stated or recalled.
    """
    words = _stems(query)
    sources = {e.id for h in hits for e in (h.episode, *h.context)}
    curve = decay or DecayConfig()
    change = asks_about_change(query)
    scored = []
    for f in facts:
        if not f.current and not change:
            continue
        overlap = len(words & _stems(f"{f.subject} {f.text}"))
        backed = bool(sources.intersection(f.sources))
        if not overlap and not backed:
            continue
        last = max(f.last_seen, f.last_recalled) if f.last_recalled else f.last_seen
        strength = curve.strength(f.confidence, last, now, f.seen - 1 + f.recalled)
        scored.append((overlap + backed, strength, f))
    scored.sort(key=lambda t: (-t[0], -t[1], t[2].id))
    return [f for _, _, f in scored[:limit]]


def _fact_line(fact: Fact) -> str:
    since = f" (since {fact.valid_from:%Y-%m-%d})" if fact.valid_from else ""
    if not fact.current:
        until = f"{fact.valid_to:%Y-%m-%d}" if fact.valid_to else "later"
        since = (
            f" ({fact.valid_from:%Y-%m-%d} to {until}; no longer current)"
            if fact.valid_from
            else " (no longer current)"
        )
    return f"- {fact.text}{since}"


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: about four characters a token for English text."""
    return max(1, (len(text) + 3) // 4)


def _line(ep: Episode) -> str:
    who = ep.speaker or ep.role
    return f"- [{ep.occurred_at:%Y-%m-%d}] {who}: {' '.join(ep.content.split())}"


def _session_header(ep: Episode) -> str:
    return f"Session {ep.session_id} ({ep.occurred_at:%A, %d %B %Y}):"


def assemble(query: str, hits: Sequence[Hit], budget_tokens: int, facts: Sequence[Fact] = ()) -> str:
    """Known facts first, then the best hits that fit the budget, grouped by
    session and told in time order.

    Facts take at most a third of the budget, current ones first.

    Hits are taken best first until the budget is spent (a hit that does not
    fit is cut to what fits, if a useful part does); the kept ones are then
    ordered by session start and turn, so the reader sees each conversation as
    it happened, with neighbouring turns it brought along.

    >>> assemble("q", [], 100)
    'No memories found for: q'
    """
    if not hits and not facts:
        return f"No memories found for: {query}"
    header = f"Memories relevant to: {query}\n"
    used = estimate_tokens(header)
    fact_lines: list[str] = []
    for fact in sorted(facts, key=lambda f: not f.current):
        line = _fact_line(fact)
        cost = estimate_tokens(line) + 1 + (0 if fact_lines else 3)
        if used + cost > budget_tokens // 3 + estimate_tokens(header):
            break
        fact_lines.append(line)
        used += cost
    if fact_lines:
        header += "Known facts:\n" + "\n".join(fact_lines) + "\n"
        if hits:
            header += "Evidence:\n"
    kept: dict[str, Episode] = {}
    sessions: set[str] = set()
    clipped: dict[str, str] = {}
    for hit in hits:
        for ep in (hit.episode, *hit.context):
            if ep.id in kept:
                continue
            line = _line(ep)
            cost = estimate_tokens(line) + 1
            if ep.session_id not in sessions:
                cost += estimate_tokens(_session_header(ep)) + 1
            if used + cost > budget_tokens:
                room = (budget_tokens - used - (cost - estimate_tokens(line))) * 4
                if ep is hit.episode and room >= 80:  # a useful part of the hit itself still fits
                    clipped[ep.id] = line[: room - 1] + "…"
                    kept[ep.id] = ep
                    used = budget_tokens
                break
            kept[ep.id] = ep
            sessions.add(ep.session_id)
            used += cost
        if used >= budget_tokens:
            break
    if not kept and not fact_lines:
        return f"No memories fit a budget of {budget_tokens} tokens for: {query}"
    starts: dict[str, float] = {}
    for ep in kept.values():
        starts[ep.session_id] = min(starts.get(ep.session_id, ep.occurred_at.timestamp()), ep.occurred_at.timestamp())
    ordered = sorted(kept.values(), key=lambda e: (starts[e.session_id], e.session_id, e.seq))
    lines, session = [header.rstrip()], None
    for ep in ordered:
        if ep.session_id != session:
            session = ep.session_id
            lines.append(_session_header(ep))
        lines.append(clipped.get(ep.id, _line(ep)))
    return "\n".join(lines)
