"""Prompt-ready context: what is known (current facts, dated), then recalled
evidence, dated and in order, within a token budget."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from hippodex.extract.types import EVENTS, STANDING
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
    question or stated by a recalled episode, strongest first, then the person's
    own standing facts (:data:`~hippodex.extract.types.STANDING`: health, diet)
    whatever is asked. Superseded ones only when the question is about change.

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
        # An allergy or a diet matters to "suggest a dinner" though no word is shared: such facts
        # of the person's own fill what room the relevant ones leave.
        standing = f.current and f.predicate in STANDING and not _hearsay(f) and "'s " not in f.subject
        if not overlap and not backed and not standing:
            continue
        last = max(f.last_seen, f.last_recalled) if f.last_recalled else f.last_seen
        strength = curve.strength(f.confidence, last, now, f.seen - 1 + f.recalled)
        scored.append((overlap + backed or 0.5, strength, f))
    # Ties in the order they were learned, not by the random part of their ids.
    # A person's own word before another's claim about them, at equal relevance.
    scored.sort(key=lambda t: (-t[0], bool(_hearsay(t[2])), -t[1], t[2].recorded_at, t[2].text, t[2].id))
    return [f for _, _, f in scored[:limit]]


def _fact_line(fact: Fact) -> str:
    # An event happened on a day ("moved to Lisbon (on ...)"); a state holds since one.
    since = f" ({'on' if fact.predicate in EVENTS else 'since'} {fact.valid_from:%Y-%m-%d})" if fact.valid_from else ""
    if not fact.current:
        until = f"{fact.valid_to:%Y-%m-%d}" if fact.valid_to else "later"
        since = (
            f" ({fact.valid_from:%Y-%m-%d} to {until}; no longer current)"
            if fact.valid_from
            else " (no longer current)"
        )
    return f"- {fact.text}{since}{_hearsay(fact)}"


def _hearsay(fact: Fact) -> str:
    """Who said it, when that is not the person the fact is about ("Caroline lives in Denver",
    said by Melanie): a reader must not take another's claim for the person's own word."""
    said = fact.asserted_by
    if not said or fact.subject == "user" or said.strip().casefold() == fact.subject.strip().casefold():
        return ""
    owner = "the user" if said == "user" else said.strip()
    if fact.subject.casefold().startswith(f"{owner}'s ".casefold()):
        return ""  # "the user's mom lives in Faro": plainly what the user told of their own kin
    return f" (said by {said})"


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: about four characters a token for English text."""
    return max(1, (len(text) + 3) // 4)


def _line(ep: Episode) -> str:
    who = ep.speaker or ep.role
    return f"- [{ep.occurred_at:%Y-%m-%d}] {who}: {' '.join(ep.content.split())}"


def _session_header(ep: Episode) -> str:
    return f"Session {ep.session_id} ({ep.occurred_at:%A, %d %B %Y}):"


#: The most of the query a block repeats: an echo is for orientation, not evidence.
QUERY_ECHO_CHARS = 100
_FACTS_HEADING = "Known facts:"
_EVIDENCE_HEADING = "Evidence:"


def _cost(line: str) -> int:
    """Tokens a line of the block costs, its newline included."""
    return estimate_tokens(line) + 1


def echo_query(query: str, budget_tokens: int) -> str:
    """The query on one line, cut with an ellipsis to at most :data:`QUERY_ECHO_CHARS`
    characters and to a quarter of the budget (a token is about four characters).

    >>> echo_query("where  does   Ana live?", 1000), echo_query("Porto " * 50, 20)
    ('where does Ana live?', 'Porto Porto Porto P…')
    """
    text = " ".join(query.split())
    limit = max(1, min(QUERY_ECHO_CHARS, budget_tokens))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fact_lines(facts: Sequence[Fact], allowance: int) -> tuple[list[str], int]:
    """The lines of the facts that fit ``allowance`` tokens with their heading, taken in the
    order given (most relevant first), then shown current ones first; and their cost.

    Chosen before they are sorted, so a superseded fact that a question about change
    ranked high ("where did I live before?") is not pushed out by current ones.
    """
    chosen: list[tuple[bool, str]] = []
    used = 0
    for fact in facts:
        line = _fact_line(fact)
        cost = _cost(line) + (0 if chosen else _cost(_FACTS_HEADING))
        if used + cost > allowance:
            break
        chosen.append((not fact.current, line))
        used += cost
    return [line for _, line in sorted(chosen, key=lambda c: c[0])], used


def _pick(hits: Sequence[Hit], room: int, heading: int) -> tuple[dict[str, Episode], dict[str, str]]:
    """The episodes to show, best hit first, within ``room`` tokens (``heading`` is charged with the first).

    A hit that does not fit is cut to what fits, if a useful part does; the
    second mapping holds the cut lines.
    """
    kept: dict[str, Episode] = {}
    sessions: set[str] = set()
    clipped: dict[str, str] = {}
    used = 0
    for hit in hits:
        for ep in (hit.episode, *hit.context):
            if ep.id in kept:
                continue
            line = _line(ep)
            extra = (0 if kept else heading) + 1
            if ep.session_id not in sessions:
                extra += _cost(_session_header(ep))
            if used + extra + estimate_tokens(line) > room:
                chars = (room - used - extra) * 4
                if ep is hit.episode and chars >= 80:  # a useful part of the hit itself still fits
                    clipped[ep.id] = line[: chars - 1] + "…"
                    kept[ep.id] = ep
                    used = room
                break
            kept[ep.id] = ep
            sessions.add(ep.session_id)
            used += extra + estimate_tokens(line)
        if used >= room:
            break
    return kept, clipped


def _evidence_lines(kept: dict[str, Episode], clipped: dict[str, str]) -> list[str]:
    """The kept episodes by session start and turn, each session under its header."""
    starts: dict[str, float] = {}
    for ep in kept.values():
        starts[ep.session_id] = min(starts.get(ep.session_id, ep.occurred_at.timestamp()), ep.occurred_at.timestamp())
    ordered = sorted(kept.values(), key=lambda e: (starts[e.session_id], e.session_id, e.seq))
    lines: list[str] = []
    session = None
    for ep in ordered:
        if ep.session_id != session:
            session = ep.session_id
            lines.append(_session_header(ep))
        lines.append(clipped.get(ep.id, _line(ep)))
    return lines


def assemble(query: str, hits: Sequence[Hit], budget_tokens: int, facts: Sequence[Fact] = ()) -> str:
    """Known facts first, then the best hits that fit the budget, grouped by
    session and told in time order.

    The whole block, the echoed query included, stays within ``budget_tokens``
    (as :func:`estimate_tokens` counts); the query is cut by :func:`echo_query`.
    Facts take at most a third of what the header leaves: the most relevant that fit,
    shown current ones first.
    A heading with nothing under it is left out.

    Hits are taken best first until the budget is spent (a hit that does not
    fit is cut to what fits, if a useful part does); the kept ones are then
    ordered by session start and turn, so the reader sees each conversation as
    it happened, with neighbouring turns it brought along.

    >>> assemble("q", [], 100)
    'No memories found for: q'
    """
    asked = echo_query(query, budget_tokens)
    if not hits and not facts:
        return f"No memories found for: {asked}"
    header = f"Memories relevant to: {asked}"
    used = _cost(header)
    fact_lines, fact_cost = _fact_lines(facts, max(0, budget_tokens - used) // 3)
    used += fact_cost
    heading = _cost(_EVIDENCE_HEADING) if fact_lines else 0
    kept, clipped = _pick(hits, budget_tokens - used, heading)
    if not kept and not fact_lines:
        return f"No memories fit a budget of {budget_tokens} tokens for: {asked}"
    lines = [header]
    if fact_lines:
        lines += [_FACTS_HEADING, *fact_lines]
    if kept and fact_lines:
        lines.append(_EVIDENCE_HEADING)
    return "\n".join([*lines, *_evidence_lines(kept, clipped)])
