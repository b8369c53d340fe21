"""Experiment (not shipped): how long `add` takes to learn a batch that states many values of one slot.

One call of `Memory.add` with n messages "I like item number i a lot" (no encoder, so the time is
the write and the rule learning): every claim lands in the slot (user, likes), which grows by one
value per message. Before the learning transaction kept each slot's facts (commit c467d2a), each
claim reloaded the whole slot from the database: quadratic in its loads.

Measured on 2026-11-23 on the 2-core CI machine, seconds for one `add` (the "before" column is
this script's loop run against afb1f0f from a worktree):

=======  ==========  =========
n        before      after
=======  ==========  =========
500      1.5         0.19
1,000    6.2         0.52
2,000    28.5        1.67
4,000    115.2       6.1
10,000   not run     40.8
=======  ==========  =========

Through the REST server, with MiniLM embedding each message, 10,000 took 15 min 41 s before.
What remains is quadratic in comparisons, not loads: each claim is compared with every current
value of its slot (``same_object``), about 0.5 µs a pair.

Run from the repository root::

    python scripts/experiments/learn_batch.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from hippodex import Memory


def main() -> None:
    for n in (500, 1_000, 2_000, 4_000, 10_000):
        with tempfile.TemporaryDirectory() as folder, Memory(Path(folder) / "m.db", encoder=None) as m:
            messages = [{"content": f"I like item number {i} a lot"} for i in range(n)]
            start = time.perf_counter()
            m.add(messages, user_id="eve")
            print(f"{n:>6} messages: {time.perf_counter() - start:6.2f} s", flush=True)


if __name__ == "__main__":
    main()
