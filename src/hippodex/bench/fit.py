"""Fit the learned fusion model on the dev halves, with cross-validation.

``hippodex bench fit`` runs LoCoMo and LongMemEval once with the hand-set
pipeline, keeping each question's candidates and their features
(:mod:`hippodex.recall.learned`), then fits a logistic model: a candidate is
positive when it is a gold evidence turn. Every question is weighted alike
(its positives share a weight of 1, its negatives another 1), so long
haystacks do not drown short ones.

The figures it reports are out of fold: LoCoMo questions are scored by a
model fitted without their conversation, LongMemEval questions by one fitted
without their fold (questions are dealt to folds by a hash of their id). The
model written for the package is then fitted on everything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from hippodex.bench.metrics import summarize
from hippodex.bench.runner import BenchSettings, Progress, Sample, lme_row, locomo_row, run_locomo, run_longmemeval
from hippodex.recall.learned import FEATURES, LATE_FEATURES, REGIMES, LinearRanker, Ranker, model_key


def fit_logistic(
    X: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1.0, iterations: int = 100
) -> tuple[np.ndarray, float]:
    """Weighted L2-regularised logistic regression by Newton's method; ``(coef, bias)``.

    The bias is not regularised. Converges in a handful of steps for the few
    dozen features used here.

    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> coef, bias = fit_logistic(X, y, np.ones(4), l2=0.1)
    >>> bool(coef[0] > 0 and bias < 0)
    True
    """
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(A @ theta, -30, 30)))
        grad = A.T @ (weight * (p - y)) + penalty * theta
        hess = (A * (weight * p * (1 - p))[:, None]).T @ A + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def _training_rows(samples: Sequence[Sample]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stacked features, labels and per-question weights of the samples that have gold in their head."""
    Xs, ys, ws = [], [], []
    for s in samples:
        gold = set(s.question.gold_turns)
        y = np.array([t in gold for t in s.head], dtype=np.float64)
        positives = y.sum()
        if not positives or positives == len(y):
            continue
        Xs.append(s.X)
        ys.append(y)
        ws.append(np.where(y > 0, 1.0 / positives, 1.0 / (len(y) - positives)))
    if not Xs:
        raise ValueError("no question has a gold turn among its candidates: nothing to learn from")
    return np.vstack(Xs), np.concatenate(ys), np.concatenate(ws)


def fit_ranker(samples: Sequence[Sample], l2: float = 1.0, meta: dict[str, Any] | None = None) -> LinearRanker:
    """A :class:`LinearRanker` fitted on the samples (features standardised first)."""
    X, y, w = _training_rows(samples)
    # A signal a candidate lacks (NaN) counts as the mean, as LinearRanker.score reads it;
    # a signal no candidate has (e.g. late interaction switched off) has mean 0.
    known = ~np.isnan(X)
    counts = known.sum(axis=0)
    mean = np.where(known, X, 0.0).sum(axis=0) / np.maximum(counts, 1)
    X = np.where(known, X, mean)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    coef, bias = fit_logistic((X - mean) / scale, y, w, l2=l2)
    return LinearRanker(FEATURES, mean, scale, coef, bias, meta or {})


def fit_regimes(samples: Sequence[Sample], l2: float = 1.0, regimes: Sequence[str] = REGIMES) -> Ranker:
    """One model per regime, each fitted on the samples of its regime (none where there are none)."""
    models: dict[str, LinearRanker | None] = {}
    for name in regimes:
        mine = [s for s in samples if s.regime == name]
        models[name] = fit_ranker(mine, l2=l2) if mine else None
        # And one for memories without token vectors, which the search picks for them.
        models[model_key(name, False)] = fit_ranker([without_late(s) for s in mine], l2=l2) if mine else None
    return Ranker(models)


_LATE_COLUMNS = [FEATURES.index(name) for name in LATE_FEATURES]


def without_late(sample: Sample) -> Sample:
    """The sample as a memory without token vectors gives it: its late signals unknown (NaN)."""
    X = np.array(sample.X, dtype=np.float64)
    X[:, _LATE_COLUMNS] = np.nan
    return replace(sample, X=X)


def has_late(sample: Sample) -> bool:
    """Whether any of the sample's candidates has a late signal (as the search decides)."""
    return bool(np.isfinite(np.asarray(sample.X, dtype=np.float64)[:, _LATE_COLUMNS]).any())


def reranked(sample: Sample, model: Ranker | LinearRanker | None) -> list[str]:
    """The sample's ranking with its head re-ordered by ``model`` (the hand-set one for ``None``)."""
    if isinstance(model, Ranker):
        model = model.models.get(model_key(sample.regime, has_late(sample)), model.models.get(sample.regime))
    if model is None:
        return sample.ranked
    head = [sample.head[i] for i in np.argsort(-model.score(sample.X), kind="stable")]
    seen = set(head)
    return head + [t for t in sample.ranked if t not in seen]


def fold_of(sample: Sample, groups: Sequence[str], folds: int) -> int:
    """LoCoMo: the conversation's own fold; LongMemEval: a stable hash of the question id."""
    if sample.benchmark == "locomo":
        return groups.index(sample.group) % folds
    return int(hashlib.sha256(sample.group.encode()).hexdigest(), 16) % folds


def score(samples: Sequence[Sample], rankings: Sequence[list[str]]) -> dict[str, dict[str, Any]]:
    """Per benchmark, the headline and per-category means of the given rankings."""
    rows: dict[str, list[tuple[str, dict[str, float]]]] = {}
    for s, ranked in zip(samples, rankings, strict=True):
        if s.benchmark == "locomo":
            row = locomo_row(ranked, s.question.gold_turns)
        else:
            row = lme_row(ranked, s.question, s.answer_sessions)
        rows.setdefault(s.benchmark, []).append((s.question.category, row))
    out: dict[str, dict[str, Any]] = {}
    for bench, bench_rows in rows.items():
        cats = summarize(bench_rows)
        if bench == "locomo":
            headline = summarize((c, r) for c, r in bench_rows if c != "5")["all"]
            out[bench] = {"headline": headline.means, "count": headline.count}
        else:
            out[bench] = {"headline": cats["all"].means, "count": cats["all"].count}
        out[bench]["by_category"] = {c: {"count": v.count, **v.means} for c, v in cats.items()}
    return out


def cross_validate(samples: Sequence[Sample], folds: int = 5, l2: float = 1.0) -> list[list[str]]:
    """Out-of-fold rankings: each sample re-ranked by the models fitted on the other folds."""
    groups = sorted({s.group for s in samples if s.benchmark == "locomo"})
    fold = np.array([fold_of(s, groups, folds) for s in samples])
    out: list[list[str]] = [[] for _ in samples]
    for f in range(folds):
        ranker = fit_regimes([s for s, g in zip(samples, fold, strict=True) if g != f], l2=l2)
        for i in np.flatnonzero(fold == f).tolist():
            out[i] = reranked(samples[i], ranker)
    return out


#: What the fit report compares, per benchmark.
COMPARE = {
    "locomo": ("recall@5", "recall@10", "recall@25", "recall@50"),
    "longmemeval": (
        "session_recall_any@5",
        "session_recall_all@5",
        "session_ndcg_any@10",
        "turn_recall_all@50",
        "any_session_recall_any@5",
        "any_session_recall_all@5",
    ),
}
#: Per regime, the benchmark whose figures its model must raise out of fold to be kept:
#: the mean of that benchmark's compared metrics (a model that trades one for another
#: is not kept).
JUDGE = {"dialogue": "locomo", "chat": "longmemeval"}


def run_fit(
    locomo: str | Path,
    longmemeval: str | Path,
    *,
    folds: int = 5,
    l2: float = 1.0,
    limit: int | None = None,
    progress: Progress | None = None,
    settings: BenchSettings | None = None,
) -> tuple[dict[str, Any], Ranker]:
    """Collect candidates from both dev files with the hand-set pipeline, cross-validate, fit.

    Returns the report (hand-set, out-of-fold and in-sample figures, which
    regimes keep their model) and the ranker fitted on everything, with the
    regimes whose model did not beat the hand-set order out of fold left empty.
    """
    base = settings or BenchSettings()
    base = replace(base, config=replace(base.config, ranker=None))
    samples: list[Sample] = []
    run_locomo(locomo, base, limit=limit, progress=progress, samples=samples)
    run_longmemeval(longmemeval, base, limit=limit, progress=progress, samples=samples)
    hand = score(samples, [reranked(s, None) for s in samples])
    cv = score(samples, cross_validate(samples, folds, l2))
    ranker = fit_regimes(samples, l2=l2)
    in_sample = score(samples, [reranked(s, ranker) for s in samples])
    # The same questions as a memory without token vectors would rank them (late interaction off).
    blind = [without_late(s) for s in samples]
    cv_blind = score(blind, cross_validate(blind, folds, l2))
    compare = {
        bench: {
            m: {
                "hand": hand[bench]["headline"][m],
                "cv": cv[bench]["headline"][m],
                "in_sample": in_sample[bench]["headline"][m],
                "cv_no_late": cv_blind[bench]["headline"][m],
            }
            for m in metrics
        }
        for bench, metrics in COMPARE.items()
        if bench in hand
    }
    kept: dict[str, bool] = {}
    models = dict(ranker.models)
    for name, bench in JUDGE.items():
        figures = compare.get(bench, {})
        gain = sum(v["cv"] - v["hand"] for v in figures.values())
        kept[name] = models.get(name) is not None and gain > 0
        if not kept[name]:
            models[name] = models[model_key(name, False)] = None
    meta = {
        "fitted_on": {"locomo": str(locomo), "longmemeval": str(longmemeval), "limit": limit},
        "questions": {b: v["count"] for b, v in hand.items()},
        "folds": folds,
        "l2": l2,
        "rerank_depth": base.config.rerank_depth,
        "cross_validated": {b: {m: round(v["cv"], 4) for m, v in ms.items()} for b, ms in compare.items()},
    }
    final = Ranker(models, meta, tuple(base.channels))
    report = {
        "benchmark": "fit",
        "compare": compare,
        "kept": kept,
        "by_category": {b: {"hand": hand[b]["by_category"], "cv": cv[b]["by_category"]} for b in hand},
        "coefficients": {
            name: dict(zip(m.names, np.round(m.coef, 4).tolist(), strict=True))
            for name, m in models.items()
            if m is not None
        },
        "meta": meta,
    }
    return report, final
