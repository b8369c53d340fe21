"""Readers for import files. Each yields ``(line, record)`` pairs in the export shape.

Formats:

- ``export``: hippodex's own JSONL (what ``export`` writes); ids, times and
  order are kept, so export then import gives the same memory.
- ``messages``: JSONL, one message a line: ``{"role", "content"}`` and
  optionally ``user_id``, ``session_id``, ``timestamp``, ``speaker``,
  ``metadata``.
- ``locomo``: the LoCoMo JSON file; each conversation becomes a user named
  by its ``sample_id`` (unless a user is given), sessions ``S1``, ``S2`` ...
- ``longmemeval``: a LongMemEval JSON file (``.json`` or ``.json.gz``); each
  question's haystack becomes a user named by its ``question_id``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hippodex._exceptions import ImportFormatError

FORMATS = ("auto", "export", "messages", "locomo", "longmemeval")


def _open(path: Path) -> Any:
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with _open(path) as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportFormatError(f"not valid JSON ({exc.msg} at column {exc.colno})", line=n) from None
            if not isinstance(rec, dict):
                raise ImportFormatError("expected a JSON object", line=n)
            yield n, rec


def detect_format(path: Path) -> str:
    """Guess the format from the file's first record."""
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        # Key order varies (LoCoMo files may open with a long "qa" list), so
        # read on until a telling key shows up, within a bounded prefix.
        with _open(path) as fh:
            head = ""
            while chunk := fh.read(1 << 16):
                head += chunk
                if '"sample_id"' in head or '"conversation"' in head:
                    return "locomo"
                if '"question_id"' in head or '"haystack_sessions"' in head:
                    return "longmemeval"
                if len(head) > 8 << 20:
                    break
        raise ImportFormatError(
            f"{path}: a .json file that is neither LoCoMo nor LongMemEval; "
            "use JSONL (one message or exported episode a line)"
        )
    for _, rec in _jsonl(path):
        return "export" if "id" in rec and "occurred_at" in rec else "messages"
    return "messages"


def stable_id(*parts: object) -> str:
    """A deterministic episode id, so re-running an interrupted import skips what it stored."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def _messages(path: Path, user_id: str | None) -> Iterator[tuple[int, dict[str, Any]]]:
    session = f"import-{path.stem}"
    for n, rec in _jsonl(path):
        unknown = set(rec) - {
            "role",
            "content",
            "user_id",
            "session_id",
            "timestamp",
            "speaker",
            "name",
            "metadata",
            "agent_id",
            "run_id",
        }
        if unknown:
            raise ImportFormatError(f"unknown field(s) {', '.join(sorted(unknown))}", line=n)
        user = rec.get("user_id") or user_id
        if not user:
            raise ImportFormatError("no user_id in the record and none given (--user)", line=n, field="user_id")
        if "timestamp" not in rec:
            raise ImportFormatError("is missing (when did this message happen?)", line=n, field="timestamp")
        yield (
            n,
            {
                "id": stable_id(path.name, n, user, rec.get("content")),
                "user_id": user,
                "agent_id": rec.get("agent_id"),
                "run_id": rec.get("run_id"),
                "session_id": rec.get("session_id") or session,
                "role": rec.get("role", "user"),
                "speaker": rec.get("speaker", rec.get("name")),
                "content": rec.get("content"),
                "occurred_at": rec["timestamp"],
                "metadata": rec.get("metadata") or {},
            },
        )


def _export(path: Path, user_id: str | None) -> Iterator[tuple[int, dict[str, Any]]]:
    for n, rec in _jsonl(path):
        yield n, ({**rec, "user_id": user_id} if user_id else rec)


def _benchmark(path: Path, fmt: str, user_id: str | None) -> Iterator[tuple[int, dict[str, Any]]]:
    from hippodex.bench.datasets import iter_longmemeval, load_locomo

    try:
        cases = load_locomo(path) if fmt == "locomo" else iter_longmemeval(path)
        for n, case in enumerate(cases, start=1):
            seen: set[str] = set()
            for session in case.sessions:
                if session.id in seen:  # LongMemEval can repeat a filler session
                    continue
                seen.add(session.id)
                sid = f"{case.id}/{session.id}" if user_id else session.id
                for turn in session.turns:
                    yield (
                        n,
                        {
                            "id": stable_id(path.name, case.id, sid, turn.seq),
                            "user_id": user_id or case.id,
                            "session_id": sid,
                            "seq": turn.seq,
                            "role": turn.role,
                            "speaker": turn.speaker,
                            "content": turn.content,
                            "occurred_at": turn.occurred_at.isoformat(),
                            "metadata": {"source_id": turn.id},
                        },
                    )
    except ValueError as exc:
        if isinstance(exc, ImportFormatError):
            raise
        raise ImportFormatError(f"{path}: {exc}") from None


def read_records(
    path: str | Path, *, fmt: str = "auto", user_id: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line or record number, record)`` pairs from an import file, ready for
    :meth:`hippodex.Memory.import_episodes`."""
    p = Path(path)
    if not p.is_file():
        raise ImportFormatError(f"{p}: no such file")
    if fmt not in FORMATS:
        raise ImportFormatError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(p)
    if fmt == "messages":
        return _messages(p, user_id)
    if fmt == "export":
        return _export(p, user_id)
    return _benchmark(p, fmt, user_id)
