"""Experiment (not shipped): does a cosine with the conversation's common direction removed help?

MiniLM's vectors share a large common component (anisotropy), and within one conversation
the turns share more: its two speakers, its tone. The dense channel's top places go to short
turns that say little but the speakers' names ("Totally! Bye Nate!"). Subtracting the
conversation's mean turn vector from the turn and question vectors ("center"), and also
projecting out the first d principal directions of the centred turns ("all-but-the-top",
Mu & Viswanath 2018; "abtt<d>"), gives a cosine about what sets a turn apart. Each variant is
added to the learned stage's signals as one more column, the model re-fitted and scored out of
fold by conversation, as ``hippodex bench fit`` does. Turns are embedded undated
(``"<speaker>: <text>"``), so "raw" is MiniLM's own undated cosine, for reference.

Measured on 2026-11-23 on the 2-core CI machine:

=========  ==================  ========  =========  =========
variant    dense-only R@10     recall@5  recall@10  recall@25
=========  ==================  ========  =========  =========
none       --                  0.734     0.817      0.886
raw        0.509               0.742     0.819      0.889
center     0.511               0.743     0.814      0.891
abtt1      0.516               0.746     0.819      0.890
abtt3      0.511               0.745     0.817      0.890
abtt8      0.509               0.746     0.818      0.886
=========  ==================  ========  =========  =========

("dense-only R@10": that cosine alone ranking every turn of the conversation.) Centring moves
the dense ranking by at most 0.007 and the pipeline by no more than the plain undated cosine
does: within noise.

Run from the repository root, with ``../shared/data`` beside it (about 3 minutes)::

    python scripts/experiments/centered_cosine.py
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from hippodex.bench.datasets import load_locomo
from hippodex.bench.fit import cross_validate, score
from hippodex.bench.metrics import evidence_recall
from hippodex.bench.runner import BenchSettings, Sample, run_locomo
from hippodex.encode.onnx_minilm import MiniLMEncoder

Project = Callable[[np.ndarray], np.ndarray]


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def transform(vectors: np.ndarray, variant: str) -> tuple[np.ndarray, Project]:
    """The turns' vectors under ``variant`` and the same map for a question's vector."""
    if variant == "raw":
        return vectors, lambda q: q
    mean = vectors.mean(axis=0)
    top = np.zeros((0, vectors.shape[1]), np.float32)
    if variant.startswith("abtt"):
        top = np.linalg.svd(vectors - mean, full_matrices=False)[2][: int(variant[4:])]

    def project(x: np.ndarray) -> np.ndarray:
        x = x - mean
        return unit(x - (x @ top.T) @ top)

    return project(vectors), project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/locomo/locomo_dev.json")
    args = parser.parse_args()
    encoder = MiniLMEncoder()
    turns: dict[str, tuple[list[str], np.ndarray]] = {}
    for case in load_locomo(args.data):
        ids = [t.id for s in case.sessions for t in s.turns]
        texts = [f"{t.speaker}: {t.content}" for s in case.sessions for t in s.turns]
        turns[case.id] = (ids, np.asarray(encoder.encode(texts), np.float32))
    settings = BenchSettings()
    samples: list[Sample] = []
    run_locomo(args.data, replace(settings, config=replace(settings.config, ranker=None)), samples=samples)
    questions = sorted({s.question.question for s in samples})
    asked = dict(zip(questions, np.asarray(encoder.encode(questions), np.float32), strict=True))

    print(f"{'variant':9s} dense-only R@10  R@5   R@10  R@25")
    got = score(samples, cross_validate(samples, 5, 1.0))["locomo"]["headline"]
    print(f"{'none':9s} {'--':15s}", " ".join(f"{got[f'recall@{k}']:.3f}" for k in (5, 10, 25)), flush=True)
    for variant in ("raw", "center", "abtt1", "abtt3", "abtt8"):
        mapped = {g: (ids, *transform(v, variant)) for g, (ids, v) in turns.items()}
        alone, widened = [], []
        for s in samples:
            ids, vectors, project = mapped[s.group]
            cosines = vectors @ unit(project(asked[s.question.question]))
            if s.question.category in "1234":
                ranking = [ids[j] for j in np.argsort(-cosines)]
                alone.append(evidence_recall(ranking, s.question.gold_turns, 10))
            place = {t: j for j, t in enumerate(ids)}
            column = np.array([cosines[place[t]] for t in s.head])
            widened.append(replace(s, X=np.hstack([s.X, column[:, None]])))
        got = score(widened, cross_validate(widened, 5, 1.0))["locomo"]["headline"]
        row = " ".join(f"{got[f'recall@{k}']:.3f}" for k in (5, 10, 25))
        print(f"{variant:9s} {np.mean(alone):<15.3f}", row, flush=True)


if __name__ == "__main__":
    main()
