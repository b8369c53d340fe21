"""Experiment (not shipped): does a fit aimed at the cut-off at 25 raise LoCoMo recall@25?

The learned model is a logistic fit that weighs every candidate of a question alike (its
positives share a weight of 1, its negatives another 1). Recall@25 only cares about the band
around place 25, so, as LambdaRank aims its gradient at a metric, this refits once or twice
with each candidate's weight multiplied by ``1 + a * exp(-|rank - 25| / b)``, its rank taken
under the previous fit. Scored out of fold by conversation, as ``hippodex bench fit`` does.

Measured on 2026-11-23 on the 2-core CI machine (recall@25; the plain fit gives 0.886):

====  ====  ==========  ==========
a     b     one refit   two refits
====  ====  ==========  ==========
1     10    0.886       0.886
1     30    0.886       0.886
3     10    0.886       0.885
3     30    0.885       0.885
10    10    0.885       0.883
10    30    0.884       0.884
====  ====  ==========  ==========

Recall@10 fell by up to 0.004 and recall@5 moved within ±0.004. The plain fit already orders
the band around 25 as well as these signals allow.

Run from the repository root, with ``../shared/data`` beside it (about 2 minutes)::

    python scripts/experiments/cutoff_weights.py
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from hippodex.bench.fit import fit_logistic, fold_of, reranked, score
from hippodex.bench.runner import BenchSettings, Sample, run_locomo
from hippodex.recall.learned import FEATURES, LinearRanker


def fit(samples: Sequence[Sample], boost: Sequence[np.ndarray] | None = None) -> LinearRanker:
    """The plain fit (``boost=None``), or one whose candidate weights are multiplied by ``boost``."""
    Xs, ys, ws = [], [], []
    for i, s in enumerate(samples):
        gold = set(s.question.gold_turns)
        y = np.array([t in gold for t in s.head], dtype=np.float64)
        if 0 < y.sum() < len(y):
            w = np.where(y > 0, 1.0 / y.sum(), 1.0 / (len(y) - y.sum()))
            Xs.append(s.X)
            ys.append(y)
            ws.append(w if boost is None else w * boost[i])
    X = np.vstack(Xs)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    coef, bias = fit_logistic((X - mean) / scale, np.concatenate(ys), np.concatenate(ws))
    return LinearRanker(FEATURES, mean, scale, coef, bias)


def ranks(model: LinearRanker, sample: Sample) -> np.ndarray:
    """Each candidate's place (0 first) under ``model``."""
    order = np.argsort(-model.score(sample.X), kind="stable")
    out = np.empty(len(order), dtype=np.int64)
    out[order] = np.arange(len(order))
    return out


def out_of_fold(samples: list[Sample], a: float, b: float, refits: int, cut: int = 25) -> dict[str, float]:
    groups = sorted({s.group for s in samples})
    fold = np.array([fold_of(s, groups, 5) for s in samples])
    rankings: list[list[str]] = [[] for _ in samples]
    for f in range(5):
        train = [s for s, g in zip(samples, fold, strict=True) if g != f]
        model = fit(train)
        for _ in range(refits):
            model = fit(train, [1 + a * np.exp(-np.abs(ranks(model, s) - cut) / b) for s in train])
        for i in np.flatnonzero(fold == f).tolist():
            rankings[i] = reranked(samples[i], model)
    headline: dict[str, float] = score(samples, rankings)["locomo"]["headline"]
    return headline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/locomo/locomo_dev.json")
    args = parser.parse_args()
    settings = BenchSettings()
    settings = replace(settings, config=replace(settings.config, ranker=None))
    samples: list[Sample] = []
    run_locomo(args.data, settings, samples=samples)
    metrics = ("recall@5", "recall@10", "recall@25", "recall@50")
    print("a     b     refits  " + "  ".join(metrics))
    for a, b, refits in [(0.0, 1.0, 0)] + [(a, b, r) for a in (1, 3, 10) for b in (10, 30) for r in (1, 2)]:
        h = out_of_fold(samples, a, b, refits)
        print(f"{a:<5} {b:<5} {refits:<7} " + "  ".join(f"{h[m]:.4f}".ljust(len(m)) for m in metrics), flush=True)


if __name__ == "__main__":
    main()
