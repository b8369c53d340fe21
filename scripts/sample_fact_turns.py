"""Draw the turns for the hand-labelled fact sample (tests/data/facts_labelled.jsonl).

Random with a fixed seed, not chosen: 100 LoCoMo dev turns and 50 LongMemEval-S
dev user turns of at most 400 characters, each given a "tune" or "heldout" half
by the same seed. The output has ``"facts": null``; a person fills them in.

    python scripts/sample_fact_turns.py ../shared/data > /tmp/unlabelled.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from hippodex.bench.datasets import iter_longmemeval, load_locomo

SEED = 20240604
MAX_CHARS = 400


def main(data: Path) -> None:
    rng = random.Random(SEED)
    locomo = [
        (case.id, t)
        for case in load_locomo(data / "locomo/locomo_dev.json")
        for s in case.sessions
        for t in s.turns
        if len(t.content) <= MAX_CHARS
    ]
    seen: set[str] = set()
    lme = []
    for case in iter_longmemeval(data / "longmemeval/longmemeval_s_dev.json.gz"):
        for s in case.sessions:
            for t in s.turns:
                # The haystacks share filler sessions: keep each distinct user turn once.
                if t.role == "user" and len(t.content) <= MAX_CHARS and t.content not in seen:
                    seen.add(t.content)
                    lme.append((case.id, t))
    picked = [("locomo", *x) for x in rng.sample(locomo, 100)] + [("longmemeval", *x) for x in rng.sample(lme, 50)]
    halves = ["tune", "heldout"] * (len(picked) // 2)
    rng.shuffle(halves)
    for (source, case_id, t), half in zip(picked, halves, strict=True):
        row = {
            "source": source,
            "case": case_id,
            "id": t.id,
            "split": half,
            "speaker": t.speaker if source == "locomo" else None,
            "role": t.role,
            "occurred_at": t.occurred_at.isoformat(),
            "content": t.content,
            "facts": None,
        }
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
