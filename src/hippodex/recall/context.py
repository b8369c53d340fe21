"""Post-fusion stages that use where a turn sits: contiguity, session, speaker.

Questions often need the turn before or after the one that matches (the
answer to a question, the question an answer replies to), and evidence
clusters in the session where a topic was discussed (EM-LLM's contiguity;
LongMemEval's session granularity). These stages move fused scores along
those structures. Pure functions of arrays, so they are easy to test.
"""

from __future__ import annotations

import re

import numpy as np

from hippodex.store.base import Layout


def session_scores(sessions: np.ndarray, scores: np.ndarray, n_sessions: int, top: int) -> np.ndarray:
    """Per session, the mean of its ``top`` best candidate scores (0 with none).

    A session whose several turns match outranks one lucky turn: questions
    that need two or three turns of one conversation find it (LongMemEval's
    session granularity), while ``top=1`` is just the best turn.
    """
    out = np.zeros(n_sessions, dtype=np.float64)
    if not len(scores):
        return out
    order = np.lexsort((-scores, sessions))
    s_sorted, v_sorted = sessions[order], scores[order]
    starts = np.r_[0, np.flatnonzero(s_sorted[1:] != s_sorted[:-1]) + 1]
    position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    keep = position < top
    sums = np.zeros(n_sessions, dtype=np.float64)
    counts = np.zeros(n_sessions, dtype=np.float64)
    np.add.at(sums, s_sorted[keep], v_sorted[keep])
    np.add.at(counts, s_sorted[keep], 1.0)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def spread(
    rows: np.ndarray, scores: np.ndarray, layout: Layout, *, neighbour: float, session: float, session_top: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores after spreading evidence to neighbouring turns and along sessions.

    Each candidate passes ``neighbour × score`` to the previous and next turn
    of its session (which become candidates if they were not), then every
    candidate gains ``session ×`` its session's score (the mean of the
    session's ``session_top`` best candidate scores).

    Returns ``(rows, new_scores, boost)`` for all candidates, where ``boost``
    is what the stages added.
    """
    # Arrays over the candidates and their neighbours only, never over every
    # row of the scope: at 1M turns each full-size array costs a millisecond.
    neighbours = [link[rows] for link in (layout.prev, layout.next)] if neighbour else []
    universe = np.unique(np.concatenate([rows, *(linked[linked >= 0] for linked in neighbours)]))
    base = np.zeros(len(universe), dtype=np.float64)
    base[np.searchsorted(universe, rows)] = scores
    total = base.copy()
    for linked in neighbours:
        ok = linked >= 0
        np.add.at(total, np.searchsorted(universe, linked[ok]), neighbour * scores[ok])
    keep = total > 0
    touched, total, base = universe[keep], total[keep], base[keep]
    if session:
        best = session_scores(layout.session[rows], scores, len(layout.sessions), session_top)
        total += session * best[layout.session[touched]]
    return touched, total, total - base


_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def named_speakers(query: str, speakers: tuple[str, ...]) -> list[int]:
    """Codes of the speakers the query names (by any word of their name, 3+ letters)."""
    words = {w.lower() for w in _WORD.findall(query)}
    out = []
    for code, name in enumerate(speakers):
        parts = [p.lower() for p in _WORD.findall(name) if len(p) >= 3]
        if parts and any(p in words for p in parts):
            out.append(code)
    return out


def speaker_boost(rows: np.ndarray, scores: np.ndarray, layout: Layout, codes: list[int], weight: float) -> np.ndarray:
    """Scores with turns of the named speaker raised by ``weight`` × score.

    Only when the query names exactly one speaker: naming both sides of a
    conversation says nothing about whose turn holds the answer.
    """
    if len(codes) != 1 or not weight:
        return scores
    return np.where(layout.speaker[rows] == codes[0], scores * (1.0 + weight), scores)


def recency_prior(occurred: np.ndarray, scores: np.ndarray, now: float, weight: float, days: float) -> np.ndarray:
    """Scale scores by a forgetting curve over age: ``1 - w + w * exp(-age / days)``.

    Episodes after ``now`` count as age 0. With ``weight`` 0 scores are unchanged.

    >>> recency_prior(np.array([0.0, 86400.0 * 30]), np.ones(2), 86400.0 * 30, 1.0, 30.0).round(3).tolist()
    [0.368, 1.0]
    """
    if not weight:
        return scores
    age = np.maximum(0.0, now - occurred) / 86400.0
    return scores * (1.0 - weight + weight * np.exp(-age / days))
