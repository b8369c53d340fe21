"""Retrieval metrics of the LoCoMo and LongMemEval benchmarks.

Every function follows the definitions in ``shared/data/README.md`` ("Standard retrieval
metrics"), which transcribe the official scoring code:

* LoCoMo ``task_eval/evaluation.py``: evidence recall@k = |{e in E : e in R_k}| / |E|,
  averaged over questions; hit@k and all@k are the common "any" / "every" variants.
* LongMemEval ``src/retrieval/eval_utils.py``: ``evaluate_retrieval`` (recall_any,
  recall_all, ndcg_any with the log2(i) discount) and ``evaluate_retrieval_turn2session``.

All functions are pure: rankings are sequences of ids, best first; gold sets are collections
of ids. ``k`` must be >= 1. A ranking shorter than ``k`` is scored on what it holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Summary",
    "aggregate",
    "all_at_k",
    "evidence_recall",
    "hit_at_k",
    "mean",
    "ndcg_any",
    "recall_all",
    "recall_any",
    "session_metrics_from_turns",
    "summarize",
    "turns_to_sessions",
]


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def _found(
    retrieved: Sequence[str],
    gold: Collection[str],
    k: int,
    unit_of: Callable[[str], str] | None,
) -> list[bool]:
    """One flag per gold entry: is it (or its unit, e.g. its session) in the top k?"""
    _check_k(k)
    top = set(retrieved[:k])
    if unit_of is None:
        return [g in top for g in gold]
    return [unit_of(g) in top for g in gold]


# --------------------------------------------------------------------------- LoCoMo


def evidence_recall(
    retrieved: Sequence[str],
    gold: Collection[str],
    k: int,
    unit_of: Callable[[str], str] | None = None,
) -> float:
    """LoCoMo official evidence recall@k: the fraction of gold evidence ids in the top k.

    ``recall = |{e in E : e in R_k}| / |E|`` (README, "LoCoMo: evidence recall at turn
    level"; ``eval_question_answering`` in ``task_eval/evaluation.py``). ``gold`` is counted
    entry by entry, as the official code does with its evidence list.

    ``unit_of`` maps a gold id to the unit that was retrieved, for session-level runs:
    with ``unit_of=locomo_session_of`` the evidence ``D8:6`` counts as found when ``S8`` is
    among the top-k ids. Empty gold returns 1.0, the official value; the README prefers
    leaving such questions out (and counting them), which is the caller's job.
    """
    flags = _found(retrieved, gold, k, unit_of)
    if not flags:
        return 1.0
    return sum(flags) / len(flags)


def hit_at_k(
    retrieved: Sequence[str],
    gold: Collection[str],
    k: int,
    unit_of: Callable[[str], str] | None = None,
) -> float:
    """LoCoMo variant hit@k: 1.0 if at least one gold id is in the top k, else 0.0.

    Same as LongMemEval recall_any (``any([])`` is False, so empty gold gives 0.0).
    """
    return float(any(_found(retrieved, gold, k, unit_of)))


def all_at_k(
    retrieved: Sequence[str],
    gold: Collection[str],
    k: int,
    unit_of: Callable[[str], str] | None = None,
) -> float:
    """LoCoMo variant all@k: 1.0 if every gold id is in the top k, else 0.0.

    Same as LongMemEval recall_all (``all([])`` is True, so empty gold gives 1.0).
    """
    return float(all(_found(retrieved, gold, k, unit_of)))


# --------------------------------------------------------------------- LongMemEval


def recall_any(ranked_ids: Sequence[str], gold: Collection[str], k: int) -> float:
    """LongMemEval recall_any@k: 1.0 if any id of G is among the top-k ids, else 0.0.

    ``float(any(doc in recalled_docs for doc in correct_docs))`` in ``evaluate_retrieval``;
    0.0 when G is empty.
    """
    return float(any(_found(ranked_ids, gold, k, None)))


def recall_all(ranked_ids: Sequence[str], gold: Collection[str], k: int) -> float:
    """LongMemEval recall_all@k: 1.0 if every id of G is among the top-k ids, else 0.0.

    ``float(all(...))`` in ``evaluate_retrieval``, hence 1.0 when G is empty (README).
    """
    return float(all(_found(ranked_ids, gold, k, None)))


def _dcg(relevances: Sequence[float]) -> float:
    # Official dcg(): rel_1 + sum_{i=2..k} rel_i / log2(i) -- ranks 1 and 2 both weigh 1.
    if not relevances:
        return 0.0
    return relevances[0] + sum(r / math.log2(i) for i, r in enumerate(relevances[1:], 2))


def ndcg_any(
    ranked_ids: Sequence[str],
    gold: Collection[str],
    k: int,
    n_relevant: int | None = None,
) -> float:
    """LongMemEval ndcg_any@k with binary relevance (README; ``ndcg`` in ``eval_utils.py``).

    DCG@k = rel_1 + sum_{i=2..k} rel_i / log2(i), where rel_i = 1 if the id at rank i is in
    G. IDCG@k is the same formula over the ideal ordering (all relevant corpus items
    first), so it is the DCG of ``min(n_relevant, k)`` ones. NDCG = DCG / IDCG, 0.0 if
    IDCG = 0 (no gold).

    ``n_relevant`` is the number of relevant items in the corpus; it defaults to
    ``len(gold)`` (ids unique in the corpus, as at official turn or session level). A ranking
    with repeated ids (turn2session) scores every repeat, and then needs the true count.
    """
    _check_k(k)
    gold_set = set(gold)
    rels = [1.0 if doc in gold_set else 0.0 for doc in ranked_ids[:k]]
    ideal = len(gold_set) if n_relevant is None else n_relevant
    idcg = _dcg([1.0] * min(ideal, k))
    if idcg == 0.0:
        return 0.0
    return _dcg(rels) / idcg


def _effective_k(sessions: Sequence[str], k: int) -> int:
    """The cutoff of ``evaluate_retrieval_turn2session``, replicated step for step.

    Starting at k, grow while the cutoff is <= the list length and the top entries cover
    fewer than k distinct sessions. It can end at k (k > length) or at length + 1.
    """
    _check_k(k)
    eff = k
    seen = set(sessions[:eff])
    while eff <= len(sessions) and len(seen) < k:
        if eff < len(sessions):
            seen.add(sessions[eff])
        eff += 1
    return eff


def turns_to_sessions(ranked_turn_ids: Sequence[str], k: int, session_of: Callable[[str], str]) -> list[str]:
    """Session ids of the top-k' turns, duplicates kept (``evaluate_retrieval_turn2session``).

    Each turn id is mapped with ``session_of`` (officially: drop the trailing ``_<t>``). k'
    is the smallest cutoff >= k at which the top-k' turns cover k distinct sessions, or the
    whole list if it never does. The returned list is what the three measures are computed
    on, at k' (see ``session_metrics_from_turns``).
    """
    sessions = [session_of(t) for t in ranked_turn_ids]
    return sessions[: _effective_k(sessions, k)]


def session_metrics_from_turns(
    ranked_turn_ids: Sequence[str],
    gold_turns: Collection[str],
    k: int,
    session_of: Callable[[str], str],
) -> dict[str, float]:
    """Session-level recall_any / recall_all / ndcg_any@k from a turn ranking.

    Mirrors ``evaluate_retrieval_turn2session``: G = the sessions of the gold turns; the
    ranking becomes the session-id list (with duplicates) cut at k' (``turns_to_sessions``);
    the measures are taken at k'. For NDCG the official ideal ordering is built over the
    mapped corpus, where the relevant entries are the gold turns themselves (non-gold turns
    of an evidence session map to a ``noans_`` session), so IDCG uses ``len(gold_turns)``.
    With a ranking of the whole corpus the result equals the official one exactly.
    """
    sessions = [session_of(t) for t in ranked_turn_ids]
    eff = _effective_k(sessions, k)
    gold_turn_set = set(gold_turns)
    gold_sessions = {session_of(t) for t in gold_turn_set}
    return {
        "recall_any": recall_any(sessions, gold_sessions, eff),
        "recall_all": recall_all(sessions, gold_sessions, eff),
        "ndcg_any": ndcg_any(sessions, gold_sessions, eff, n_relevant=len(gold_turn_set)),
    }


# --------------------------------------------------------------------- aggregation


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean; raises ValueError on no values (an average of nothing is a bug)."""
    vals = list(values)
    if not vals:
        raise ValueError("mean() of no values")
    return math.fsum(vals) / len(vals)


@dataclass(frozen=True)
class Summary:
    """Per-group result: number of rows, mean of each metric, rows that had each metric."""

    count: int
    means: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


ALL = "all"


def summarize(rows: Iterable[tuple[str, dict[str, float]]]) -> dict[str, Summary]:
    """Group ``(category, {metric: value})`` rows; returns ``"all"`` first, then categories.

    Means are per question (macro over questions, as both official scripts average), taken
    per metric over the rows that report it.
    """
    groups: dict[str, list[dict[str, float]]] = {ALL: []}
    for category, metrics in rows:
        if category == ALL:
            raise ValueError(f"category name {ALL!r} is reserved for the overall summary")
        groups.setdefault(category, []).append(metrics)
        groups[ALL].append(metrics)
    out: dict[str, Summary] = {}
    for name in [ALL, *sorted(c for c in groups if c != ALL)]:
        members = groups[name]
        values: dict[str, list[float]] = {}
        for metrics in members:
            for metric, value in metrics.items():
                values.setdefault(metric, []).append(value)
        out[name] = Summary(
            count=len(members),
            means={m: mean(v) for m, v in values.items()},
            counts={m: len(v) for m, v in values.items()},
        )
    return out


def aggregate(
    rows: Iterable[tuple[str, dict[str, float]]],
) -> dict[str, dict[str, float]]:
    """Category -> metric -> mean over questions, plus ``"all"`` (see ``summarize``)."""
    return {name: dict(s.means) for name, s in summarize(rows).items()}
