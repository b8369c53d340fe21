"""What ``add`` acknowledged survives a SIGKILL at any moment of a bulk import."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hippodex import Memory
from hippodex.store.sqlite import SQLiteStore

CHILD = textwrap.dedent(
    """
    import sys
    from hippodex import Memory
    m = Memory(sys.argv[1], encoder=sys.argv[2] if sys.argv[2] != "none" else None)
    for i in range(100000):
        batch = [{"role": "user", "content": f"bulk message {i} part {j} about topic {i % 17}"} for j in range(5)]
        eps = m.add(batch, user_id="bulk", session_id=f"s{i // 20}")
        print(" ".join(e.id for e in eps), flush=True)
    """
)


@pytest.mark.parametrize("encoder", ["none", "minilm"])
@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_during_bulk_import_loses_nothing_acknowledged(tmp_path: Path, encoder: str, seed: int) -> None:
    db = tmp_path / "crash.db"
    rng = random.Random(seed)
    stop_after = rng.randint(20, 120)  # acknowledged batches before the kill
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(db), encoder], stdout=subprocess.PIPE, text=True)
    acknowledged: list[str] = []
    assert proc.stdout is not None
    for _ in range(stop_after):
        line = proc.stdout.readline()
        assert line, "the importer ended before it was killed"
        acknowledged.extend(line.split())
    # Kill mid-flight: the child is inside another add right now.
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    store = SQLiteStore(db)
    assert store.integrity_check() == "ok"
    assert store.has_ids(acknowledged) == set(acknowledged)
    store.close()
    with Memory(db, encoder=None) as m:
        n = m.stats().episodes
        assert n >= len(acknowledged) and n % 5 == 0  # whole batches only: a batch is one transaction
        assert m.search("bulk message 3 part 4", user_id="bulk")
