"""Experiment: what sentence and word vectors cost at ingest, on LongMemEval's long chat turns.

Writes the user turns of the first two LongMemEval-S dev haystacks (482 turns) into a
new SQLite file, one ``add`` per session and no embedding cache, with neither, with
sentence vectors only, and with both (the default), twice each.

Measured on 2026-11-22 on the 2-core CI machine, with nothing else running (before
word vectors existed): 31.8 and 32.6 turns/s with sentence vectors, 59.7 and 59.8
without. Re-run the same day with word vectors: 27.1 and 27.8 turns/s with both (the
default), 32.5 and 29.5 with sentence vectors only, 52.6 and 53.9 with neither.

Run::

    python scripts/experiments/ingest_vectors.py ../shared/data/longmemeval/longmemeval_s_dev.json.gz
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

from hippodex import Memory, RecallConfig

CONFIGS = {
    "neither": RecallConfig(sentence_vectors=False, word_vectors=False),
    "sentences": RecallConfig(sentence_vectors=True, word_vectors=False),
    "sentences and words": RecallConfig(),
}


def main(path: str, haystacks: int = 2, repeats: int = 2) -> None:
    with gzip.open(path) as f:
        questions = json.load(f)[:haystacks]
    sessions = [
        (f"q{i}s{j}", [t["content"] for t in session if t["role"] == "user"])
        for i, q in enumerate(questions)
        for j, session in enumerate(q["haystack_sessions"])
    ]
    turns = sum(len(t) for _, t in sessions)
    for _ in range(repeats):
        for name, config in CONFIGS.items():
            with tempfile.TemporaryDirectory() as tmp, Memory(Path(tmp) / "m.db", config=config) as m:
                _ = m.encoder  # load the model before the clock starts
                start = time.perf_counter()
                for session_id, texts in sessions:
                    if texts:
                        m.add(texts, user_id="u", session_id=session_id)
                took = time.perf_counter() - start
            print(f"{name}: {turns / took:.1f} turns/s ({turns} turns, {took:.1f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
