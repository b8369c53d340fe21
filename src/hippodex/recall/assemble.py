"""Prompt-ready context: recalled evidence, dated and in order, within a token budget."""

from __future__ import annotations

from collections.abc import Sequence

from hippodex.model import Episode, Hit


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: about four characters a token for English text."""
    return max(1, (len(text) + 3) // 4)


def _line(ep: Episode) -> str:
    who = ep.speaker or ep.role
    return f"- [{ep.occurred_at:%Y-%m-%d}] {who}: {' '.join(ep.content.split())}"


def _session_header(ep: Episode) -> str:
    return f"Session {ep.session_id} ({ep.occurred_at:%A, %d %B %Y}):"


def assemble(query: str, hits: Sequence[Hit], budget_tokens: int) -> str:
    """The best hits that fit the budget, grouped by session and told in time order.

    Hits are taken best first until the budget is spent (a hit that does not
    fit is cut to what fits, if a useful part does); the kept ones are then
    ordered by session start and turn, so the reader sees each conversation as
    it happened, with neighbouring turns it brought along.

    >>> assemble("q", [], 100)
    'No memories found for: q'
    """
    if not hits:
        return f"No memories found for: {query}"
    header = f"Memories relevant to: {query}\n"
    used = estimate_tokens(header)
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
    if not kept:
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
