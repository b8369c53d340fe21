"""Readers for import files. Each yields ``(line, record)`` pairs in the export shape;
:class:`ImportBatch` checks each batch of them before it is written.

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
- ``chatgpt``, ``claude``: the data export of ChatGPT or of Claude, its
  ``conversations.json`` or the ``.zip`` that holds it; see
  :mod:`hippodex.ingest.chat_exports`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from hippodex._exceptions import ImportFormatError
from hippodex.ingest import chat_exports
from hippodex.ingest.files import READ_ERRORS, is_gzip, open_bytes, open_text, unreadable
from hippodex.ingest.normalize import stable_id
from hippodex.model import Scope
from hippodex.store.base import NewEpisode

if TYPE_CHECKING:
    from hippodex.store.base import Store

FORMATS = ("auto", "export", "messages", "locomo", "longmemeval", "chatgpt", "claude")


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    # Bytes, decoded a line at a time, so bad UTF-8 is reported with its line and column.
    with open_bytes(path) as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                col = len(raw[: exc.start].decode("utf-8", "replace")) + 1
                raise ImportFormatError(
                    f"not UTF-8 text in {path} (byte 0x{raw[exc.start]:02x} at column {col}); "
                    "import reads JSON Lines or a benchmark's JSON file",
                    line=n,
                ) from None
            line = line.rstrip("\r\n")  # else a line cut short is reported at the next line's column 1
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportFormatError(f"not valid JSON ({_json_problem(exc, line)})", line=n) from None
            if not isinstance(rec, dict):
                raise ImportFormatError("expected a JSON object", line=n)
            yield n, rec


def _json_problem(exc: json.JSONDecodeError, line: str) -> str:
    """What is wrong with a JSON line and at which column (1-based, in characters)."""
    where = f"{exc.msg} column {exc.colno}" if exc.msg.endswith(" at") else f"{exc.msg} at column {exc.colno}"
    cut = exc.pos >= len(line.rstrip()) or exc.msg.startswith("Unterminated string")
    return f"{where}; the line ends early: is it cut short?" if cut else where


def _read_text(path: Path, fh: Any) -> str:
    try:
        return str(fh.read(1 << 16))
    except UnicodeDecodeError:
        raise ImportFormatError(f"{path}: not UTF-8 text; import reads JSON Lines or a benchmark's JSON file") from None


def detect_format(path: Path) -> str:
    """Guess the format from the file's first record."""
    name = path.name.lower()
    if name.endswith(".zip"):
        return chat_exports.detect(path)  # the one kind of zip import reads
    if name.endswith((".json", ".json.gz")):
        # Key order varies (LoCoMo files may open with a long "qa" list), so
        # read on until a telling key shows up, within a bounded prefix.
        with open_text(path) as fh:
            head = ""
            while chunk := _read_text(path, fh):
                head += chunk
                if '"sample_id"' in head or '"conversation"' in head:
                    return "locomo"
                if '"question_id"' in head or '"haystack_sessions"' in head:
                    return "longmemeval"
                if kind := chat_exports.kind(head):
                    return kind
                if len(head) > 8 << 20:
                    break
        raise ImportFormatError(
            f"{path}: a .json file that is neither LoCoMo, LongMemEval nor a ChatGPT or Claude export; "
            "use JSONL (one message or exported episode a line)"
        )
    for _, rec in _jsonl(path):
        return "export" if "id" in rec and "occurred_at" in rec else "messages"
    return "messages"


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
        message = str(exc)
        raise ImportFormatError(message if message.startswith(str(path)) else f"{path}: {message}") from None


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
    # The file is opened (and its format sniffed) now, not when reading starts,
    # so a caller can check it before creating a database to import into.
    try:
        fmt = detect_format(p) if fmt == "auto" else fmt
        is_gzip(p)
    except READ_ERRORS as exc:
        raise unreadable(p, exc) from None
    if fmt == "messages":
        return _guarded(p, _messages(p, user_id))
    if fmt == "export":
        return _guarded(p, _export(p, user_id))
    if fmt in chat_exports.READERS:
        if not user_id:  # said now, before anything is opened to import into
            raise ImportFormatError(f"{p}: a {fmt} export names no user; give the user to import it as (--user)")
        return _guarded(p, chat_exports.READERS[fmt](p, user_id))
    return _guarded(p, _benchmark(p, fmt, user_id))


def _guarded(path: Path, records: Iterator[tuple[int, dict[str, Any]]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``records``, with a file that breaks while being read reported as an ImportFormatError."""
    try:
        yield from records
    except READ_ERRORS as exc:
        raise unreadable(path, exc) from None


# -- checks before each batch is written --------------------------------------------
class Pending(NamedTuple):
    """A validated record waiting in the batch: its line, scope, session and episode."""

    line: int
    scope: Scope
    session: str
    item: NewEpisode


class ImportBatch:
    """The records of an import not yet written, checked so a batch is written whole or not at all.

    Before anything is written it finds: an id repeated in the file, a ``seq``
    repeated in a session, an id another user's episode holds (in stores where
    ids are unique per database), and a ``seq`` a session already has. Ids the
    user already has are skipped, so an interrupted import can be re-run.
    """

    def __init__(self, store: Store, *, new_ids: bool = False) -> None:
        self.store = store
        self.new_ids = new_ids
        self.items: list[Pending] = []
        self._seen: dict[str, tuple[int, str]] = {}  # id -> (line, user) where this import first had it
        self._places: dict[tuple[str, str, int], int] = {}  # (user, session, seq) -> line, in this batch
        self._held: dict[str, str] = {}  # id -> user, in this batch

    def __len__(self) -> int:
        return len(self.items)

    def entry(self, line: int, scope: Scope, session: str, item: NewEpisode) -> Pending:
        """The record as it will be imported; with ``new_ids``, under an id derived from the
        user and its old one (deterministic, so a re-run still skips what was stored)."""
        if self.new_ids and item.id:
            item = replace(item, id=stable_id("copy", scope.user_id, item.id))
        return Pending(line, scope, session, item)

    def admits(self, entry: Pending) -> bool:
        """False when another user's record in this batch has the same id: write the batch
        first, so the store's check (:meth:`take`) sees it and says whether that clashes."""
        held = self._held.get(entry.item.id or "")
        return held is None or held == entry.scope.user_id

    def add(self, entry: Pending) -> None:
        line, scope, session, item = entry
        user = scope.user_id
        if item.id:
            first = self._seen.get(item.id)
            if first is None:
                self._seen[item.id] = (line, user)
            elif first[1] == user:
                raise ImportFormatError(f"id {item.id!r} repeats line {first[0]}", line=line, field="id")
            self._held[item.id] = user
        if item.seq is not None:
            place = (user, session, item.seq)
            if place in self._places:
                raise ImportFormatError(
                    f"seq {item.seq} of session {session!r} repeats line {self._places[place]}", line=line, field="seq"
                )
            self._places[place] = line
        self.items.append(entry)

    def take(self) -> tuple[list[Pending], int]:
        """The batch's records to write, and how many were skipped as already the user's;
        raises for the first record (by line) that cannot be written. Empties the batch."""
        pending, self.items = self.items, []
        self._places.clear()
        self._held.clear()
        fresh: list[Pending] = []
        for user in dict.fromkeys(e.scope.user_id for e in pending):
            mine = [e for e in pending if e.scope.user_id == user]
            present = self.store.has_ids([e.item.id for e in mine if e.item.id], user)
            fresh += [e for e in mine if e.item.id not in present]
        fresh.sort(key=lambda e: e.line)
        self._check_ids(fresh)
        self._check_places(fresh)
        return fresh, len(pending) - len(fresh)

    def _check_ids(self, fresh: list[Pending]) -> None:
        taken: set[str] = set()
        for user in dict.fromkeys(e.scope.user_id for e in fresh):
            ids = [e.item.id for e in fresh if e.scope.user_id == user and e.item.id]
            taken |= self.store.has_ids(ids, user, others=True) if ids else set()
        for line, scope, _, item in fresh:
            if item.id in taken:
                first, owner = self._seen[item.id]
                used = f"repeats line {first} (another user's)" if owner != scope.user_id else "is another user's"
                raise ImportFormatError(
                    f"id {item.id!r} {used}, and ids are unique in this database; "
                    "to copy records to another user, import with fresh ids (--new-ids, or new_ids=True)",
                    line=line,
                    field="id",
                )

    def _check_places(self, fresh: list[Pending]) -> None:
        groups: dict[tuple[Scope, str], list[Pending]] = {}
        for e in fresh:
            if e.item.seq is not None:
                groups.setdefault((e.scope, e.session), []).append(e)
        clashes: list[tuple[int, str, int, str]] = []
        for (scope, session), entries in groups.items():
            seqs = [e.item.seq for e in entries if e.item.seq is not None]
            lo, hi = min(seqs), max(seqs)
            first = entries[0].item
            probe = first.stored(scope, session, "", lo, first.occurred_at, first.occurred_at)
            taken = {ep.seq: ep.id for ep in self.store.neighbours(scope.user_id, probe, 0, hi - lo)}
            clashes += [(e.line, session, s, taken[s]) for e in entries if (s := e.item.seq) is not None and s in taken]
        if clashes:
            line, session, seq, other = min(clashes)
            raise ImportFormatError(
                f"session {session!r} already has a different turn at seq {seq} (episode {other!r}), and "
                "importing would interleave the two; import it into another session, or drop its seq to "
                "append it at the end",
                line=line,
                field="seq",
            )
