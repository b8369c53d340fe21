"""Import edge cases: other users' ids, repeated ids and seqs, broken files, exact error positions."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from hippodex import ImportFormatError, Memory, ValidationError
from hippodex.cli import app
from hippodex.ingest.importers import read_records

runner = CliRunner()


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250", "HIPPODEX_FACTS": "none"})


def import_(src: Path, db: str | Path, *args: str) -> Result:
    return run("import", src, "--db", db, "--encoder", "none", *args)


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def episode(eid: str, user: str, seq: int, content: str, session: str = "s1") -> dict[str, Any]:
    """A record in the export shape."""
    return {
        "id": eid,
        "user_id": user,
        "session_id": session,
        "seq": seq,
        "role": "user",
        "content": content,
        "occurred_at": f"2024-05-01T10:{seq:02d}:00+00:00",
        "metadata": {},
    }


def contents(m: Memory, user: str) -> list[str]:
    return [e.content for e in m.list(user_id=user).items]


@pytest.fixture
def ana_export(lexical_memory: Memory, tmp_path: Path) -> Path:
    """Ana's two turns (and one of bob's in the same file) exported to a.jsonl."""
    lexical_memory.add(["I moved to Lisbon", "I like green tea"], user_id="ana", session_id="s1")
    lexical_memory.add("Bob's turn", user_id="bob", session_id="s1")
    return write_jsonl(tmp_path / "a.jsonl", list(lexical_memory.export(user_id="ana")))


# -- 1. another user's ids ------------------------------------------------------------
def test_import_under_another_user_needs_new_ids_where_ids_are_global(
    lexical_memory: Memory, ana_export: Path, backend: str
) -> None:
    records = list(read_records(ana_export, user_id="carl"))
    if backend == "sqlite":  # ids are unique per file: an error naming the line and the fix
        with pytest.raises(ImportFormatError, match=r"line 1, field 'id'.*another user.*new_ids=True") as info:
            lexical_memory.import_episodes(records)
        assert "ana" not in str(info.value)  # says an id is taken, never by whom
        assert "nothing was stored" in info.value.__notes__
        assert contents(lexical_memory, "carl") == []
    else:  # ids are unique per user: carl may share them
        assert lexical_memory.import_episodes(records).added == 2
        assert contents(lexical_memory, "carl") == ["I moved to Lisbon", "I like green tea"]
        lexical_memory.erase(user_id="carl")


def test_new_ids_copy_a_memory_to_another_user_and_resume(lexical_memory: Memory, ana_export: Path) -> None:
    first = lexical_memory.import_episodes(read_records(ana_export, user_id="carl"), new_ids=True)
    assert (first.added, first.skipped) == (2, 0)
    ana = list(lexical_memory.export(user_id="ana"))
    carl = list(lexical_memory.export(user_id="carl"))
    same = ("session_id", "seq", "role", "content", "occurred_at")
    assert [{k: r[k] for k in same} for r in carl] == [{k: r[k] for k in same} for r in ana]
    assert not {r["id"] for r in carl} & {r["id"] for r in ana}
    again = lexical_memory.import_episodes(read_records(ana_export, user_id="carl"), new_ids=True)
    assert (again.added, again.skipped) == (0, 2)  # fresh ids are derived, so a re-run resumes
    assert lexical_memory.import_episodes(read_records(ana_export)).skipped == 2  # ana's own: skipped as before


def test_has_ids_answers_for_one_user(lexical_memory: Memory, ana_export: Path, backend: str) -> None:
    ids = [r["id"] for r in lexical_memory.export(user_id="ana")]
    store = lexical_memory.store
    assert store.has_ids(ids) == set(ids)
    assert store.has_ids(ids, "ana") == set(ids)
    assert store.has_ids(ids, "carl") == set()
    assert store.has_ids(ids, "ana", others=True) == set()
    assert store.has_ids(ids, "carl", others=True) == (set(ids) if backend == "sqlite" else set())


def test_cli_reimport_as_another_user(ana_export: Path, db_target: str, backend: str) -> None:
    result = import_(ana_export, db_target, "--user", "carl")
    if backend == "sqlite":
        assert result.exit_code == 2, result.output
        assert "error: line 1, field 'id'" in result.stderr and "--new-ids" in result.stderr
    else:
        assert "2 added" in result.stdout
    result = import_(ana_export, db_target, "--user", "dana", "--new-ids")
    assert result.exit_code == 0 and "2 records read: 2 added, 0 skipped" in result.stdout
    assert "0 added, 2 skipped" in import_(ana_export, db_target, "--user", "dana", "--new-ids").stdout


# -- 2. an id repeated in the file ------------------------------------------------------
def test_repeated_id_for_one_user_names_both_lines(lexical_memory: Memory, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "dup.jsonl", [episode("e1", "ana", 0, "one"), episode("e1", "ana", 1, "two")])
    for batch in (500, 1):  # in one batch, and across batches (not silently skipped as "already present")
        with pytest.raises(ImportFormatError, match=r"line 2, field 'id': id 'e1' repeats line 1"):
            lexical_memory.import_episodes(read_records(src), batch=batch)
    assert contents(lexical_memory, "ana") == ["one"]  # the second run's batch of one: stored, then skipped


def test_repeated_id_for_two_users(lexical_memory: Memory, tmp_path: Path, backend: str) -> None:
    src = write_jsonl(
        tmp_path / "dup.jsonl",
        [episode("e0", "ana", 0, "zero"), episode("e1", "ana", 1, "one"), episode("e1", "bob", 0, "bob's")],
    )
    if backend == "sqlite":
        with pytest.raises(
            ImportFormatError, match=r"line 3, field 'id': id 'e1' repeats line 2 \(another user's\)"
        ) as info:
            lexical_memory.import_episodes(read_records(src))
        assert info.value.__notes__ == ["2 episode(s) before it were stored; re-running the import skips them"]
        assert (contents(lexical_memory, "ana"), contents(lexical_memory, "bob")) == (["zero", "one"], [])
    else:
        assert lexical_memory.import_episodes(read_records(src)).added == 3


def test_cli_repeated_id_error_is_accurate(db_target: str, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "dup.jsonl", [episode("e1", "ana", 0, "one"), episode("e1", "ana", 1, "two")])
    result = import_(src, db_target)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: line 2, field 'id': id 'e1' repeats line 1")
    assert "nothing was stored" in result.stderr and "UNIQUE" not in result.stderr


# -- 3. binary and corrupt files ------------------------------------------------------
def corrupt_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Broken import files, each with what the error must say."""
    sqlite = tmp_path / "some.db"
    with Memory(sqlite, encoder=None) as m:
        m.add("hello", user_id="ana")
    binary = tmp_path / "photo.jsonl"
    binary.write_bytes(b'{"content": "hi", "timestamp": "2024-01-01"}\n\x89PNG\r\n\x1a\n\x00\xff\xfe')
    not_gzip = tmp_path / "chat.jsonl.gz"
    not_gzip.write_text('{"role": "user"}\n')
    whole = gzip.compress(json.dumps([{"question_id": "q1", "haystack_sessions": []}] * 200).encode())
    truncated = tmp_path / "lme.json.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    cut_jsonl = tmp_path / "dump.jsonl.gz"
    cut_jsonl.write_bytes(
        gzip.compress(b"".join(json.dumps(episode(f"e{i}", "a", i, "x")).encode() + b"\n" for i in range(50)))[:-30]
    )
    bad_data = tmp_path / "bad.jsonl.gz"
    good = gzip.compress(b'{"role": "user", "content": "x", "timestamp": "2024-01-01"}\n' * 100)
    bad_data.write_bytes(good[:12] + bytes(b ^ 0x5A for b in good[12:40]) + good[40:])
    return {
        "sqlite": (sqlite, "a SQLite database, not an import file"),
        "binary": (binary, "line 2: not UTF-8 text in"),
        "not gzip": (not_gzip, "not gzip-compressed, though its name ends in .gz"),
        "truncated json": (truncated, "the compressed data ends early"),
        "truncated jsonl": (cut_jsonl, "the compressed data ends early"),
        "corrupt gzip": (bad_data, "the compressed data is corrupt"),
    }


def test_broken_files_give_an_error_naming_the_file(tmp_path: Path) -> None:
    for name, (path, says) in corrupt_files(tmp_path).items():
        db = tmp_path / f"{path.name}.target.db"
        result = import_(path, db, "--user", "ana")
        assert result.exit_code == 2, (name, result.output, result.exception)
        assert result.stderr.startswith("error:") and says in result.stderr, (name, result.stderr)
        assert path.name in result.stderr, name
        assert "Traceback" not in result.output
        with pytest.raises(ImportFormatError, match=says), Memory(tmp_path / "api.db", encoder=None) as m:
            m.import_episodes(read_records(path, user_id="ana"))


# -- 4. column numbers ------------------------------------------------------------------
def test_json_errors_report_the_real_column(tmp_path: Path) -> None:
    cut = '{"role": "user", "content": "I moved to Lis'
    src = tmp_path / "cut.jsonl"
    src.write_text('{"role": "user", "content": "hi", "timestamp": "2024-01-01"}\n' + cut + "\n")
    with pytest.raises(ImportFormatError, match=r"line 2: .*Unterminated string starting at column 29; the line ends"):
        list(read_records(src, user_id="ana"))
    src.write_text('{"role": "user", "content": 5 x}\r\n')
    with pytest.raises(ImportFormatError, match=r"line 1: .*Expecting ',' delimiter at column 31\)"):
        list(read_records(src, user_id="ana"))
    src.write_text('{"role": "user", "content": "caf\u00e9", x}\n')
    with pytest.raises(ImportFormatError, match=r"at column 37\)"):  # characters, not bytes
        list(read_records(src, user_id="ana"))


# -- 5. a missing file leaves no database behind -----------------------------------------
def test_missing_or_broken_file_creates_no_database(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    result = import_(tmp_path / "missing.jsonl", db)
    assert result.exit_code == 2 and "missing.jsonl: no such file" in result.stderr
    assert not db.exists()
    not_gzip = tmp_path / "chat.jsonl.gz"
    not_gzip.write_text("{}\n")
    assert import_(not_gzip, db, "--format", "messages").exit_code == 2
    assert not db.exists()


# -- 6. seq collisions ---------------------------------------------------------------------
def test_a_seq_the_session_has_is_rejected(lexical_memory: Memory, tmp_path: Path) -> None:
    lexical_memory.add(["mine at 0", "mine at 1"], user_id="ana", session_id="s1")
    src = write_jsonl(
        tmp_path / "other.jsonl",
        [episode("n2", "ana", 2, "new at 2"), episode("n1", "ana", 1, "imported at 1")],
    )
    with pytest.raises(
        ImportFormatError, match=r"line 2, field 'seq': session 's1' already has a different turn at seq 1"
    ):
        lexical_memory.import_episodes(read_records(src))
    assert contents(lexical_memory, "ana") == ["mine at 0", "mine at 1"]  # checked before the batch was written


def test_a_seq_repeated_in_the_file_names_both_lines(lexical_memory: Memory, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "dup.jsonl", [episode("a", "ana", 0, "one"), episode("b", "ana", 0, "two")])
    with pytest.raises(ImportFormatError, match=r"line 2, field 'seq': seq 0 of session 's1' repeats line 1"):
        lexical_memory.import_episodes(read_records(src))
    assert contents(lexical_memory, "ana") == []


def test_round_trip_keeps_seqs_exactly_and_resumes(lexical_memory: Memory, tmp_path: Path, db_target: str) -> None:
    lexical_memory.add(["a", "b", "c", "d"], user_id="ana", session_id="s1")
    gone = lexical_memory.list(user_id="ana").items[1]
    lexical_memory.delete(gone.id, user_id="ana")  # a gap: seqs 0, 2, 3
    lexical_memory.add(["e"], user_id="ana", session_id="s1")
    original = list(lexical_memory.export())
    assert [r["seq"] for r in original] == [0, 2, 3, 4]
    src = write_jsonl(tmp_path / "dump.jsonl", original)
    with Memory(tmp_path / "fresh.db", encoder=None) as fresh:
        # an interrupted import: the first two records only, then the whole file again
        fresh.import_episodes(list(read_records(src))[:2])
        assert fresh.import_episodes(read_records(src), batch=1).added == 2
        assert list(fresh.export()) == original


# -- what import_episodes takes from Python ------------------------------------------------


def test_import_episodes_takes_what_export_yields_pairs_or_a_path(tmp_path: Path) -> None:
    with Memory(tmp_path / "old.db", encoder=None) as old:
        old.add(["I live in Porto.", "I moved to Lisbon."], user_id="ana", session_id="s1")
        exported = list(old.export())
    path = tmp_path / "ana.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in exported))
    for name, records in {
        "dicts": exported,
        "pairs": list(enumerate(exported, 1)),
        "path": path,
        "str": str(path),
    }.items():
        with Memory(tmp_path / f"{name}.db", encoder=None) as new:
            assert new.import_episodes(records).added == 2, name
            assert [e.to_dict() for e in new.list(user_id="ana").items] == exported, name


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ({"user_id": "ana"}, "expected what export"),
        (5, "expected what export"),
        (["I live in Porto."], "line 1: is a str, not a record"),
        ([(1, {"user_id": "ana"}, "x")], "line 1: is a tuple, not a record"),
    ],
)
def test_import_episodes_names_what_is_not_a_record(tmp_path: Path, records: object, message: str) -> None:
    with Memory(tmp_path / "m.db", encoder=None) as m:
        with pytest.raises(ValidationError, match=message):
            m.import_episodes(records)  # type: ignore[arg-type]
        assert m.stats().episodes == 0
