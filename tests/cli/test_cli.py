"""The ``hippodex`` command, run through typer's CliRunner on real SQLite files and PostgreSQL databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from hippodex import HippodexError, Memory, __version__
from hippodex.cli import app
from hippodex.encode.registry import create_encoder

runner = CliRunner()


def run(*args: str | Path, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    # A wide terminal, so rich tables don't wrap the text the tests look for.
    return runner.invoke(app, [str(a) for a in args], input=input, env={"COLUMNS": "250", **(env or {})})


def ok(*args: str | Path, input: str | None = None) -> Result:
    result = run(*args, input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture
def db(db_target: str, backend: str) -> Path | str:
    """The --db value: a SQLite file path, or a postgresql:// URL."""
    return Path(db_target) if backend == "sqlite" else db_target


def add(db: Path, *args: str) -> list[str]:
    out = ok("add", *args, "--db", db, "--encoder", "none").stdout
    return out.split()


@pytest.fixture
def filled(db: Path) -> dict[str, list[str]]:
    """Two sessions of ana and one of bob; returns the ids per session."""
    return {
        "s1": add(
            db,
            "My sister Ines is a paediatric nurse in Glasgow",
            "I am allergic to peanuts",
            "--user",
            "ana",
            "--session",
            "s1",
            "--speaker",
            "Ana",
            "--timestamp",
            "2024-03-01T10:00",
            "--meta",
            "source=cli",
            "--meta",
            "weight=3",
        ),
        "s2": add(
            db, "We fly to Osaka on 14 October", "--user", "ana", "--session", "s2", "--timestamp", "2024-06-10T20:00"
        ),
        "b1": add(db, "Bob keeps a sister-free diary", "--user", "bob", "--session", "b1", "--timestamp", "2024-01-01"),
    }


def search_json(db: Path, query: str, *args: str) -> list[dict[str, Any]]:
    return json.loads(ok("search", query, "--user", "ana", "--db", db, "--encoder", "none", "--json", *args).stdout)


def export_records(db: Path, *args: str) -> list[dict[str, Any]]:
    out = ok("export", "--db", db, *args).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


# -- add and search ---------------------------------------------------------------
def test_add_prints_one_id_per_message(db: Path, filled: dict[str, list[str]]) -> None:
    assert len(filled["s1"]) == 2 and len(filled["s2"]) == 1
    assert all(len(i) == 32 and int(i, 16) >= 0 for ids in filled.values() for i in ids)
    with Memory(db, encoder=None) as m:
        ep = m.get(filled["s1"][0], user_id="ana")
    assert ep.speaker == "Ana" and ep.session_id == "s1"
    assert ep.metadata == {"source": "cli", "weight": 3}  # JSON values are parsed, the rest kept as strings
    assert ep.occurred_at.isoformat() == "2024-03-01T10:00:00+00:00"


def test_search_prints_a_table_with_date_session_and_channels(db: Path, filled: dict[str, list[str]]) -> None:
    out = ok("search", "paediatric nurse", "--user", "ana", "--db", db, "--encoder", "none").stdout
    assert "My sister Ines is a paediatric nurse in Glasgow" in out
    assert "2024-03-01" in out and "s1" in out and "Ana" in out
    assert "lexical #1" in out
    assert "Osaka" not in out  # only what matched


def test_search_json_is_a_list_of_hits(db: Path, filled: dict[str, list[str]]) -> None:
    hits = search_json(db, "sister")
    assert hits[0]["episode"]["id"] == filled["s1"][0]
    assert all(h["episode"]["user_id"] == "ana" for h in hits)  # bob's sister stays bob's
    assert hits[0]["channels"]["lexical"]["rank"] == 1
    assert hits[0]["episode"]["metadata"] == {"source": "cli", "weight": 3}
    assert hits[0]["context"] == []


def test_search_filters_and_expand(db: Path, filled: dict[str, list[str]]) -> None:
    assert search_json(db, "sister Osaka", "--session", "s2")[0]["episode"]["session_id"] == "s2"
    assert [h["episode"]["content"] for h in search_json(db, "Osaka sister", "--since", "2024-05-01")] == [
        "We fly to Osaka on 14 October"
    ]
    assert search_json(db, "Osaka", "--role", "assistant") == []
    hit = search_json(db, "peanuts", "--expand", "1")[0]
    assert [c["content"] for c in hit["context"]] == ["My sister Ines is a paediatric nurse in Glasgow"]
    table = ok("search", "peanuts", "--user", "ana", "--db", db, "--encoder", "none", "--expand", "1").stdout
    assert "Ana: My sister Ines" in table  # the context turn, shown around the hit


def test_content_is_printed_verbatim_not_as_rich_markup(db: Path) -> None:
    add(db, "remember [bold]this[/bold] and [link=x]that[/link]", "--user", "ana")
    out = ok("search", "remember", "--user", "ana", "--db", db, "--encoder", "none").stdout
    assert "remember [bold]this[/bold] and [link=x]that[/link]" in out


def test_search_without_matches_says_so(db: Path, filled: dict[str, list[str]]) -> None:
    assert "no episodes matched" in ok("search", "zeppelin", "--user", "ana", "--db", db, "--encoder", "none").stdout
    assert search_json(db, "zeppelin") == []


def test_add_reads_a_json_list_from_stdin(db: Path) -> None:
    messages = [
        {"role": "user", "content": "I adopted a cat named Miso", "speaker": "Ana", "timestamp": "2024-02-02T09:00"},
        {"role": "assistant", "content": "Congratulations on Miso!"},
    ]
    ids = ok(
        "add",
        "--json",
        "-",
        "--user",
        "ana",
        "--session",
        "pets",
        "--db",
        db,
        "--encoder",
        "none",
        input=json.dumps(messages),
    ).stdout.split()
    assert len(ids) == 2
    listed = json.loads(ok("list", "--user", "ana", "--db", db, "--json").stdout)["items"]
    assert [(e["role"], e["speaker"], e["content"]) for e in listed] == [
        ("user", "Ana", "I adopted a cat named Miso"),
        ("assistant", None, "Congratulations on Miso!"),
    ]


@pytest.mark.parametrize("args", [(), ("hello", "--json", "-")])
def test_add_needs_text_or_json_but_not_both(db: Path, args: tuple[str, ...]) -> None:
    result = run("add", *args, "--user", "ana", "--db", db, "--encoder", "none", input="[]")
    assert result.exit_code == 2
    assert "either TEXT arguments or --json" in result.output


def test_add_rejects_invalid_json_and_bad_meta(db: Path) -> None:
    result = run("add", "--json", "-", "--user", "ana", "--db", db, "--encoder", "none", input="[{oops")
    assert result.exit_code == 2 and "not valid JSON" in result.output
    result = run("add", "hi", "--meta", "novalue", "--user", "ana", "--db", db, "--encoder", "none")
    assert result.exit_code == 2 and "key=value" in result.output


def test_bad_timestamp_exits_2_with_a_helpful_message(db: Path) -> None:
    result = run("add", "hello", "--user", "ana", "--timestamp", "last tuesday", "--db", db, "--encoder", "none")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "'last tuesday' is not an ISO 8601 time" in result.stderr and "2023-05-08T14:00" in result.stderr
    assert (isinstance(db, Path) and not db.exists()) or json.loads(ok("stats", "--db", db, "--json").stdout)[
        "episodes"
    ] == 0
    result = run("search", "hello", "--user", "ana", "--since", "soon", "--db", db, "--encoder", "none")
    assert result.exit_code == 2 and "since 'soon'" in result.stderr


def test_missing_user_is_a_usage_error(db: Path) -> None:
    for args in (("add", "hello"), ("search", "hello"), ("list",), ("erase", "--yes")):
        result = run(*args, "--db", db, "--encoder", "none")
        assert result.exit_code == 2, args
        assert "Missing option" in result.output and "--user" in result.output


def test_library_errors_exit_2(db: Path, tmp_path: Path, filled: dict[str, list[str]]) -> None:
    result = run("search", "sister", "--user", "ana", "--db", db, "--encoder", "no-such-encoder")
    assert result.exit_code == 2 and "error: encoder: unknown 'no-such-encoder'" in result.stderr
    result = run("search", "sister", "--user", "ana", "--db", db, "--encoder", "none", "--channels", "lexical,psychic")
    assert result.exit_code == 2 and "psychic" in result.stderr
    result = run("search", "sister", "--user", "ana", "--db", db, "--encoder", "none", "-k", "0")
    assert result.exit_code == 2 and "k must be between 1" in result.stderr
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("just some notes\n" * 100)
    result = run("stats", "--db", not_a_db)
    assert result.exit_code == 2 and result.stderr.startswith("error: ")


@pytest.mark.parametrize("query", ['"AND" NEAR(*', "OR", "*", '"', "NOT -x", "a:b ^c", "sister) OR (", "'; DROP"])
def test_fts_hostile_queries_do_not_crash(db: Path, filled: dict[str, list[str]], query: str) -> None:
    hits = search_json(db, query)
    assert all(h["episode"]["user_id"] == "ana" for h in hits)
    assert ok("search", query, "--user", "ana", "--db", db, "--encoder", "none").exit_code == 0
    if "sister" in query:
        assert hits[0]["episode"]["id"] == filled["s1"][0]


# -- get, list, sessions, delete, erase, stats -------------------------------------------
def test_get_shows_one_episode(db: Path, filled: dict[str, list[str]]) -> None:
    eid = filled["s2"][0]
    record = json.loads(ok("get", eid, "--user", "ana", "--db", db, "--json").stdout)
    assert record["content"] == "We fly to Osaka on 14 October" and record["session_id"] == "s2"
    table = ok("get", eid, "--user", "ana", "--db", db).stdout
    assert eid in table and "We fly to Osaka on 14 October" in table and "2024-06-10T20:00:00+00:00" in table
    result = run("get", eid, "--user", "bob", "--db", db)  # another user's id is not found
    assert result.exit_code == 2 and "error:" in result.stderr and eid in result.stderr


def test_list_pages_in_time_order(db: Path, filled: dict[str, list[str]]) -> None:
    page = json.loads(ok("list", "--user", "ana", "--db", db, "--json", "--limit", "2").stdout)
    assert [e["id"] for e in page["items"]] == filled["s1"]
    assert page["total"] == 3 and page["next_offset"] == 2
    rest = json.loads(ok("list", "--user", "ana", "--db", db, "--json", "--limit", "2", "--offset", "2").stdout)
    assert [e["id"] for e in rest["items"]] == filled["s2"] and rest["next_offset"] is None
    table = ok("list", "--user", "ana", "--db", db, "--limit", "2").stdout
    assert filled["s1"][1] in table and "I am allergic to peanuts" in table
    assert "2 of 3 episode(s)" in table and "--offset 2" in table
    only_s2 = json.loads(ok("list", "--user", "ana", "--session", "s2", "--db", db, "--json").stdout)
    assert only_s2["total"] == 1


def test_sessions_lists_most_recent_first(db: Path, filled: dict[str, list[str]]) -> None:
    found = json.loads(ok("sessions", "--user", "ana", "--db", db, "--json").stdout)
    assert [(s["id"], s["episodes"]) for s in found] == [("s2", 1), ("s1", 2)]
    table = ok("sessions", "--user", "ana", "--db", db).stdout
    assert table.index("s2") < table.index("s1") and "2024-03-01 10:00" in table
    assert "b1" not in table


def test_delete_removes_one_episode(db: Path, filled: dict[str, list[str]]) -> None:
    eid = filled["s1"][1]
    assert eid in ok("delete", eid, "--user", "ana", "--db", db).stdout
    assert search_json(db, "peanuts") == []
    assert run("get", eid, "--user", "ana", "--db", db).exit_code == 2
    again = run("delete", eid, "--user", "ana", "--db", db)
    assert again.exit_code == 2 and again.stderr.startswith("error: ")


def test_erase_needs_yes(db: Path, filled: dict[str, list[str]]) -> None:
    refused = run("erase", "--user", "ana", "--db", db)
    assert refused.exit_code == 2 and "error:" in refused.stderr and "--yes" in refused.stderr
    assert json.loads(ok("stats", "--user", "ana", "--db", db, "--json").stdout)["episodes"] == 3
    assert "erased 3 episode(s)" in ok("erase", "--user", "ana", "--yes", "--db", db).stdout
    assert json.loads(ok("stats", "--user", "ana", "--db", db, "--json").stdout)["episodes"] == 0
    assert json.loads(ok("stats", "--user", "bob", "--db", db, "--json").stdout)["episodes"] == 1


def test_stats(db: Path, filled: dict[str, list[str]]) -> None:
    everything = json.loads(ok("stats", "--db", db, "--json").stdout)
    assert (everything["users"], everything["sessions"], everything["episodes"], everything["vectors"]) == (2, 3, 4, 0)
    assert everything["db_bytes"] > 0 and everything["encoder"] is None
    ana = json.loads(ok("stats", "--user", "ana", "--db", db, "--json").stdout)
    assert (ana["sessions"], ana["episodes"]) == (2, 3)
    table = ok("stats", "--db", db).stdout
    assert "episodes" in table and "schema_version" in table


def test_db_defaults_to_hippodex_db_env(tmp_path: Path) -> None:
    path = tmp_path / "from-env.db"
    result = run("add", "hello there", "--user", "ana", "--encoder", "none", env={"HIPPODEX_DB": str(path)})
    assert result.exit_code == 0, result.output
    assert path.exists()
    assert json.loads(ok("stats", "--db", path, "--json").stdout)["episodes"] == 1


def test_read_commands_do_not_create_a_missing_db(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    for args in (
        ("search", "x", "--user", "a"),
        ("list", "--user", "a"),
        ("get", "x", "--user", "a"),
        ("stats",),
        ("export",),
        ("erase", "--user", "a", "--yes"),
    ):
        result = run(*args, "--db", missing, "--encoder", "none")
        assert result.exit_code == 2, args
        assert "no memory file at" in result.output
    assert not missing.exists()


def test_an_empty_db_is_refused_and_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    empty = run("list", "--user", "a", "--db", "", "--encoder", "none")
    assert empty.exit_code == 2 and "--db: is empty" in empty.output
    ok("add", "hello", "--user", "a", "--db", tmp_path / "m.db", "--encoder", "none")
    # A quoted ~ reaches hippodex unexpanded; it names the same file the shell would.
    listed = ok("list", "--user", "a", "--db", "~/m.db", "--encoder", "none", "--json")
    assert [e["content"] for e in json.loads(listed.stdout)["items"]] == ["hello"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == ["m.db"]


# -- export and import ----------------------------------------------------------
def test_export_then_import_gives_identical_episodes(db: Path, tmp_path: Path, filled: dict[str, list[str]]) -> None:
    original = export_records(db)
    assert len(original) == 4 and {r["user_id"] for r in original} == {"ana", "bob"}
    dump = tmp_path / "dump.jsonl"
    ok("export", "--db", db, "--out", dump)
    assert [json.loads(line) for line in dump.read_text().splitlines()] == original
    fresh = tmp_path / "fresh.db"
    out = ok("import", dump, "--db", fresh, "--encoder", "none").stdout
    assert "4 added" in out and "0 skipped" in out
    assert export_records(fresh) == original
    again = ok("import", dump, "--db", fresh, "--encoder", "none").stdout
    assert "0 added" in again and "4 skipped" in again
    assert export_records(fresh) == original
    assert export_records(fresh, "--user", "bob") == [r for r in original if r["user_id"] == "bob"]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def message(content: str, minute: int, **extra: Any) -> str:
    return json.dumps({"role": "user", "content": content, "timestamp": f"2024-05-01T10:{minute:02d}", **extra})


def test_import_messages_jsonl(db: Path, tmp_path: Path) -> None:
    src = write_lines(
        tmp_path / "chat.jsonl",
        [
            message("I moved to Lisbon", 0, session_id="m1", speaker="Ana"),
            message("Welcome to Lisbon!", 1, session_id="m1", role="assistant"),
            message("Lisbon is sunny", 2),
        ],
    )
    out = ok("import", src, "--user", "ana", "--db", db, "--encoder", "none").stdout
    assert "3 records read: 3 added, 0 skipped" in out
    items = json.loads(ok("list", "--user", "ana", "--db", db, "--json").stdout)["items"]
    assert [(e["session_id"], e["role"], e["content"]) for e in items] == [
        ("m1", "user", "I moved to Lisbon"),
        ("m1", "assistant", "Welcome to Lisbon!"),
        ("import-chat", "user", "Lisbon is sunny"),
    ]
    assert search_json(db, "Lisbon sunny")[0]["episode"]["content"] == "Lisbon is sunny"
    no_user = run("import", src, "--db", tmp_path / "other.db", "--encoder", "none")
    assert no_user.exit_code == 2 and "line 1" in no_user.stderr and "user_id" in no_user.stderr


@pytest.mark.parametrize(("batch", "stored"), [("500", 0), ("2", 2), ("1", 2)])
def test_import_stops_at_a_malformed_line_and_keeps_committed_batches(
    db: Path,
    tmp_path: Path,
    batch: str,
    stored: int,
) -> None:
    # What import guarantees: records are committed a batch at a time; a bad
    # record stops the import, names its line, and batches before it stay.
    src = write_lines(
        tmp_path / "broken.jsonl",
        [message("first", 0), message("second", 1), '{"role": "user", oops', message("fourth", 3)],
    )
    result = run("import", src, "--user", "ana", "--batch", batch, "--db", db, "--encoder", "none")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: line 3: not valid JSON")
    assert (f"{stored} episode(s) before it were stored" if stored else "nothing was stored") in result.stderr
    contents = [e["content"] for e in json.loads(ok("list", "--user", "ana", "--db", db, "--json").stdout)["items"]]
    assert contents == ["first", "second"][:stored]


def test_import_reports_a_bad_field_with_its_line(db: Path, tmp_path: Path) -> None:
    src = write_lines(tmp_path / "bad.jsonl", [message("fine", 0), message("when?", 1, timestamp="tomorrow")])
    result = run("import", src, "--user", "ana", "--db", db, "--encoder", "none")
    assert result.exit_code == 2 and "line 2" in result.stderr and "'tomorrow' is not an ISO 8601 time" in result.stderr


def test_import_missing_file_and_unknown_format(db: Path, tmp_path: Path) -> None:
    result = run("import", tmp_path / "nope.jsonl", "--db", db, "--encoder", "none")
    assert result.exit_code == 2 and "no such file" in result.stderr
    src = write_lines(tmp_path / "chat.jsonl", [message("hello", 0)])
    result = run("import", src, "--format", "csv", "--user", "ana", "--db", db, "--encoder", "none")
    assert result.exit_code == 2 and "format 'csv' is not one of auto, export, messages" in result.stderr


# -- demo and version -------------------------------------------------------------
def test_demo_lexical_only_runs_and_can_be_rerun(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    out = ok("demo", "--db", path, "--encoder", "none").stdout
    assert "Recorded 48 turns" in out
    assert "When do we fly to Japan?" in out and "14 October" in out
    assert "lexical only" in out and "no episodes matched" in out  # the paraphrases need the dense channel
    assert f'hippodex search "where did Maya move?" --user demo --db {path}' in out
    again = ok("demo", "--db", path, "--encoder", "none").stdout
    assert "already in" in again
    assert json.loads(ok("stats", "--db", path, "--json").stdout)["episodes"] == 48


def test_demo_in_a_temporary_folder_says_how_to_remove_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # mkdtemp's folder, so the test leaves none behind
    monkeypatch.setattr("tempfile.tempdir", None)
    out = ok("demo", "--encoder", "none").stdout
    [folder] = list(tmp_path.glob("hippodex-demo-*"))
    assert f"rm -r {folder}" in out and (folder / "memory.db").exists()
    assert "rm -r" not in ok("demo", "--db", tmp_path / "mine.db", "--encoder", "none").stdout  # the user's own file


def test_demo_with_the_default_encoder(tmp_path: Path) -> None:
    try:
        create_encoder("minilm").encode(["probe"])
    except (ImportError, HippodexError) as exc:
        pytest.skip(f"the default minilm encoder is not available: {exc}")
    path = tmp_path / "demo.db"
    out = ok("demo", "--db", path).stdout
    assert "Recorded 48 turns" in out
    assert "dense #1" in out and "lexical #" in out
    # Paraphrases that share no word with their answer: only the dense channel finds them.
    assert "moving to Rotterdam" in out and "border collie" in out
    stats = json.loads(ok("stats", "--db", path, "--json").stdout)
    assert stats["vectors"] > 0 and stats["encoder"]


def test_version() -> None:
    assert ok("version").stdout.strip() == f"hippodex {__version__}"


def test_reindex_reembeds_every_episode(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    ok("add", "first note", "second note", "--user", "u", "--db", db)
    out = ok("reindex", "--db", db).stdout
    assert "re-embedded 2 episodes" in out


def test_context_prints_a_dated_block(db: Path, filled: dict[str, list[str]]) -> None:
    out = ok("context", "peanuts allergy", "--user", "ana", "--db", db, "--encoder", "none", "--budget", "200").stdout
    assert out.startswith("Memories relevant to: peanuts allergy")
    assert "[2024-03-01] Ana: I am allergic to peanuts" in out


LOCOMO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "locomo" / "locomo_dev.json"


@pytest.mark.skipif(not LOCOMO.exists(), reason="LoCoMo dev data not in ../shared/data")
def test_import_the_locomo_dev_file_then_consolidate(db: Path) -> None:
    # The file opens with a long "qa" list: the format is found further in.
    out = ok("import", LOCOMO, "--db", db, "--encoder", "none").stdout
    turns = sum(
        len(v)
        for conv in json.loads(LOCOMO.read_text())
        for k, v in conv["conversation"].items()
        if k.startswith("session_") and isinstance(v, list)
    )
    assert f"{turns} added, 0 skipped" in out
    assert f"{turns} added" not in ok("import", LOCOMO, "--db", db, "--encoder", "none").stdout  # re-run skips all
    report = json.loads(ok("consolidate", "--db", db, "--encoder", "none", "--json").stdout)
    assert report["episodes_learned"] == 0 and report["summaries"] > 0  # import learned as it went
    first_user = json.loads(LOCOMO.read_text())[0]["sample_id"]
    facts = json.loads(ok("facts", "--user", first_user, "--db", db, "--encoder", "none", "--json").stdout)
    assert facts and all(f["sources"] and f["valid_from"] for f in facts)


@pytest.mark.parametrize(
    ("command", "extra"),
    [(["bench"], "plot")],
)
def test_help_keeps_the_name_of_the_extra_to_install(command: list[str], extra: str) -> None:
    # Rich reads "[rerank]" as markup and drops it unless escaped: the install command shown must work.
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert f"pip install 'hippodex[{extra}]'" in result.output


def test_the_facts_table_shows_each_id_whole_in_80_columns(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    ok("add", "I live in Porto", "--user", "ana", "--db", db, "--encoder", "none")
    ok("add", "I moved to Lisbon", "--user", "ana", "--db", db, "--encoder", "none")
    ids = [f["id"] for f in json.loads(ok("facts", "--user", "ana", "--all", "--db", db, "--json").stdout)]
    result = runner.invoke(app, ["facts", "--user", "ana", "--all", "--db", str(db)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert len(ids) >= 2 and all(i in result.output for i in ids)  # what `hippodex history` takes


def test_export_to_a_folder_that_does_not_exist_is_an_error_line(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    ok("add", "I live in Porto", "--user", "ana", "--db", db, "--encoder", "none")
    result = run("export", "--out", tmp_path / "no" / "such" / "x.jsonl", "--db", db, "--encoder", "none")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --out: cannot write") and "No such file or directory" in result.stderr


def test_search_says_when_dense_recall_cannot_see_some_episodes(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    ok("add", "I like green tea", "--user", "ana", "--db", db)
    ok("add", "I walked to the harbour", "--user", "ana", "--db", db, "--encoder", "none")
    found = ok("search", "tea", "--user", "ana", "--db", db)
    assert found.stderr.startswith("warning: 1 of 2 episodes of user 'ana' have no vector")
    assert "hippodex reindex" in found.stderr and "Traceback" not in found.stderr
