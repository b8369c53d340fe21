"""``hippodex bench consolidate``: what the sleep pass costs and yields on a benchmark file.

Imports the file (every conversation is one user) into a fresh lexical-only
memory with learning on add switched off, then times ``Memory.consolidate()``
over everything (learning facts and entities, merging, summaries), and once
more to show that a second pass finds nothing left to do.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from hippodex.ingest.importers import read_records
from hippodex.memory import Memory


def run_consolidate(path: Path) -> dict[str, Any]:
    """Import ``path``, consolidate twice; counts and seconds of each pass, plus what was learned."""
    with (
        tempfile.TemporaryDirectory(prefix="hippodex-sleep-") as folder,
        Memory(Path(folder) / "m.db", encoder=None, learn_on_add=False) as m,
    ):
        start = time.perf_counter()
        imported = m.import_episodes(read_records(path))
        import_s = time.perf_counter() - start
        first = m.consolidate()
        second = m.consolidate()
        users = m.store.users()
        facts = sum(len(m.facts(u, current_only=False, limit=10_000)) for u in users)
        current = sum(len(m.facts(u, limit=10_000)) for u in users)
        entities = sum(len(m.entities(u, limit=10_000)) for u in users)
    return {
        "file": str(path),
        "users": len(users),
        "episodes": imported.added,
        "import_seconds": round(import_s, 3),
        "first_pass": first.to_dict(),
        "second_pass": second.to_dict(),
        "facts": facts,
        "current_facts": current,
        "entities": entities,
        "episodes_per_second": round(first.learned.episodes / first.seconds, 1) if first.seconds else None,
    }
