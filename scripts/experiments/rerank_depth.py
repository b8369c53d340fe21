"""Experiment (not shipped): does LoCoMo miss evidence because the learned stage sees too few candidates?

Measured on 2026-11-22 on the 2-core CI machine. Of the 87 question-units (of 760, categories
1-4) that the default pipeline misses at 25, 34 lie outside the 200 candidates the learned
stage re-ranks. An earlier test of ``rerank_depth=400`` changed nothing, but each channel still
handed over only ``depth=100`` candidates, so no question had more than 317. Here each channel
hands over 300 and the learned model (re-fitted, scored out of fold by conversation as
``hippodex bench fit`` does) re-orders the first 200, 300, 400 or all of them (538 a question
on average, most of a conversation):

=========================  ========  =========  =========  =========
candidates re-ranked       recall@5  recall@10  recall@25  recall@50
=========================  ========  =========  =========  =========
default (100 each, 200)    0.737     0.817      0.886      0.920
300 each, first 200        0.737     0.814      0.882      0.920
300 each, first 300        0.744     0.816      0.884      0.921
300 each, first 400        0.744     0.813      0.887      0.923
300 each, all              0.742     0.812      0.885      0.921
=========================  ========  =========  =========  =========

The evidence the pipeline misses is not lost to the channels' cut: the model itself places it
low, so a deeper re-rank (which costs time in proportion) is not the lever for recall@25.

Run from the repository root, with ``../shared/data`` beside it (about 2 minutes)::

    python scripts/experiments/rerank_depth.py
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from hippodex.bench.fit import cross_validate, score
from hippodex.bench.runner import BenchSettings, Sample, run_locomo


def collect(data: str, depth: int, rerank_depth: int) -> list[Sample]:
    """The learned stage's recorded signals for every LoCoMo question, channels cut at ``depth``."""
    settings = BenchSettings()
    config = replace(settings.config, ranker=None, depth=depth, rerank_depth=rerank_depth)
    samples: list[Sample] = []
    run_locomo(data, replace(settings, config=config), samples=samples)
    return samples


def recall_line(label: str, samples: list[Sample]) -> None:
    got = score(samples, cross_validate(samples, 5, 1.0))["locomo"]["headline"]
    print(f"{label:28s}", " ".join(f"{got[f'recall@{k}']:.3f}" for k in (5, 10, 25, 50)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/locomo/locomo_dev.json")
    args = parser.parse_args()
    print(f"{'candidates re-ranked':28s} R@5   R@10  R@25  R@50")
    recall_line("default (100 each, 200)", collect(args.data, 100, 200))
    deep = collect(args.data, 300, 10_000)
    for cut in (200, 300, 400, None):
        cut_samples = [replace(s, head=s.head[:cut], X=s.X[:cut]) for s in deep]
        recall_line(f"300 each, {'all' if cut is None else f'first {cut}'}", cut_samples)


if __name__ == "__main__":
    main()
