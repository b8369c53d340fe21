"""The ``hippodex`` command: a thin shell over :class:`hippodex.Memory`.

Each command parses its options, calls ``Memory`` and formats the result with
rich; it holds no SQL and no scoring. Every :class:`HippodexError` is turned
into ``error: <message>`` on stderr and exit code 2 in one place
(``_Group.invoke``); bad usage is typer's, also exit code 2.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from importlib.resources import as_file, files
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from hippodex._exceptions import HippodexError, ValidationError
from hippodex._version import __version__
from hippodex.config import CHANNELS, default_db_path
from hippodex.encode.registry import DEFAULT_ENCODER, ENCODERS
from hippodex.ingest.importers import FORMATS, read_records
from hippodex.memory import Memory
from hippodex.model import ROLES, Episode, Fact, Hit
from hippodex.store.open import is_postgres_url, redact


class _Group(TyperGroup):
    """The root command group: maps any HippodexError to ``error: ...`` and exit code 2."""

    def invoke(self, ctx: Any) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _show_warning
                return super().invoke(ctx)
        except HippodexError as exc:
            _fail("\n".join([str(exc), *getattr(exc, "__notes__", [])]))


def _show_warning(message: Warning | str, *_: Any, **__: Any) -> None:
    """A Python warning as the CLI's own line (``warning: ...``), not a source location and code."""
    _console(stderr=True).print(f"[yellow]warning:[/yellow] {escape(str(message))}", highlight=False)


def _fail(message: str) -> NoReturn:
    """Print ``error: message`` and exit with code 2, as every error of the CLI does."""
    _console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(2) from None


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="Long-term memory for LLM agents: record conversations, recall what matters. New here? Run: hippodex demo",
)

# -- options, defined once and shared by the commands ---------------------------------
_ENCODERS = ", ".join([*ENCODERS, "st:<model>"])
DbOpt = Annotated[
    str | None,
    typer.Option(help="The memory file, or a postgresql:// URL (default: $HIPPODEX_DB, else ./memory.db)."),
]
EncoderOpt = Annotated[str, typer.Option(help=f"Encoder for dense recall ({_ENCODERS}), or 'none' for lexical only.")]
UserOpt = Annotated[str, typer.Option("--user", "-u", help="The user whose memory to use.", show_default=False)]
AnyUserOpt = Annotated[str | None, typer.Option("--user", "-u", help="Only this user (default: every user).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
IdArg = Annotated[str, typer.Argument(help="The episode's id.", metavar="ID")]
SessionsOpt = Annotated[list[str] | None, typer.Option("--session", "-s", help="Only this session (repeatable).")]
RolesOpt = Annotated[list[str] | None, typer.Option("--role", help=f"Only this role (repeatable): {', '.join(ROLES)}.")]
SinceOpt = Annotated[str | None, typer.Option(help="Only episodes at or after this ISO time.")]
UntilOpt = Annotated[
    str | None, typer.Option(help="Only episodes before this ISO time; a date alone includes that day.")
]
LimitOpt = Annotated[int, typer.Option(help="At most this many.")]
# add
TextArg = Annotated[list[str] | None, typer.Argument(help="Messages, one episode each.", metavar="TEXT...")]
SessionOpt = Annotated[str | None, typer.Option("--session", "-s", help="Session to add to (default: a new one).")]
RoleOpt = Annotated[str, typer.Option(help=f"Role of the messages: {', '.join(ROLES)}.")]
SpeakerOpt = Annotated[str | None, typer.Option(help="Who said it, e.g. a name.")]
TimestampOpt = Annotated[
    str | None, typer.Option(help="When it happened, ISO 8601 like 2024-05-08T14:00 (default: now).")
]
MetaOpt = Annotated[list[str] | None, typer.Option(help="Metadata key=value (repeatable); JSON values are parsed.")]
JsonFileOpt = Annotated[
    typer.FileText | None, typer.Option("--json", metavar="FILE", help="A JSON list of messages to add; - for stdin.")
]
# search
QueryArg = Annotated[str, typer.Argument(help="What to recall, in plain words.", metavar="QUERY")]
KOpt = Annotated[int, typer.Option("-k", help="How many hits.")]
NowOpt = Annotated[str | None, typer.Option(help="When the question is asked, ISO 8601 (default: now).")]
ExpandOpt = Annotated[int, typer.Option(help="Show N neighbouring turns on each side of a hit.")]
ChannelsOpt = Annotated[str | None, typer.Option(help=f"Comma list of channels (default: all): {', '.join(CHANNELS)}.")]
# import, export, demo
FileArg = Annotated[Path, typer.Argument(help="The file to import (JSONL, or a benchmark's JSON).", metavar="FILE")]
ImportUserOpt = Annotated[str | None, typer.Option("--user", "-u", help="Import everything as this user.")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help=f"File format: {', '.join(FORMATS)}.")]
BatchOpt = Annotated[int, typer.Option(min=1, help="Records committed per transaction.")]
OutOpt = Annotated[str, typer.Option("--out", "-o", metavar="FILE", help="Write to this file; - for stdout.")]
DemoDbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Record into this file or postgresql:// URL (default: a new temporary file)."),
]


def _console(*, stderr: bool = False) -> Console:
    # Made per call so that the current stdout/stderr and $COLUMNS are used.
    return Console(stderr=stderr)


def _open(db: str | Path | None, encoder: str, *, create: bool = False) -> Memory:
    """The memory at --db; commands that only read or remove don't create a stray empty file."""
    target = str(db if db is not None else default_db_path())
    if not target.strip():  # Path("") would read as the current folder
        raise typer.BadParameter("is empty: name a memory file or a postgresql:// URL", param_hint="--db")
    if is_postgres_url(target):
        return Memory(target, encoder=None if encoder == "none" else encoder)
    path = Path(target).expanduser()  # a quoted "~/memory.db" too
    if not create and not path.exists():
        raise typer.BadParameter(f"no memory file at {path} (record something first, or pass --db)", param_hint="--db")
    return Memory(path, encoder=None if encoder == "none" else encoder)


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _who(ep: Episode) -> Text:
    if not ep.speaker or ep.speaker.lower() == ep.role:
        return Text(ep.role)
    return Text.assemble(ep.speaker, "\n", (ep.role, "dim"))


def _hit_text(hit: Hit) -> Text:
    def line(ctx: Episode) -> str:
        return f"{ctx.speaker or ctx.role}: {ctx.content}"

    text = Text()
    for ctx in (c for c in hit.context if c.seq < hit.episode.seq):
        text.append(line(ctx) + "\n", style="dim")
    text.append(hit.episode.content, style="bold" if hit.context else "")
    for ctx in (c for c in hit.context if c.seq > hit.episode.seq):
        text.append("\n" + line(ctx), style="dim")
    return text


def _hits_table(hits: Sequence[Hit], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("date / session")
    table.add_column("who")
    table.add_column("content", ratio=1)
    table.add_column("found by")
    for rank, hit in enumerate(hits, start=1):
        ep = hit.episode
        found = "\n".join(f"{name} #{c.rank}" for name, c in hit.channels.items())
        table.add_row(
            str(rank),
            f"{hit.score:.4f}",
            Text(f"{ep.occurred_at:%Y-%m-%d}\n{ep.session_id}"),
            _who(ep),
            _hit_text(hit),
            found,
        )
    return table


def _episodes_table(episodes: Iterable[Episode]) -> Table:
    table = Table(show_lines=True)
    table.add_column("time / session")
    table.add_column("who")
    table.add_column("content / id", ratio=1)
    for ep in episodes:
        table.add_row(
            Text(f"{ep.occurred_at:%Y-%m-%d %H:%M}\n{ep.session_id} #{ep.seq}"),
            _who(ep),
            Text.assemble(ep.content, "\n", (ep.id, "dim")),
        )
    return table


def _fields_table(fields: dict[str, Any]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in fields.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)
        table.add_row(key, Text(shown))
    return table


def _metadata(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not key=value", param_hint="--meta")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


# -- writes ---------------------------------------------------------------------
@app.command()
def add(
    user: UserOpt,
    text: TextArg = None,
    session: SessionOpt = None,
    role: RoleOpt = "user",
    speaker: SpeakerOpt = None,
    timestamp: TimestampOpt = None,
    meta: MetaOpt = None,
    json_file: JsonFileOpt = None,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """Record messages as episodes of one session and print their ids."""
    if bool(text) == (json_file is not None):
        raise typer.BadParameter("give either TEXT arguments or --json, not both or neither", param_hint="TEXT")
    messages: Any
    if json_file is not None:
        try:
            messages = json.load(json_file)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"not valid JSON: {exc}", param_hint="--json") from None
    else:
        messages = [{"role": role, "content": t, **({"speaker": speaker} if speaker else {})} for t in text or []]
    with _open(db, encoder, create=True) as m:
        episodes = m.add(messages, user_id=user, session_id=session, timestamp=timestamp, metadata=_metadata(meta))
    for ep in episodes:
        typer.echo(ep.id)


@app.command()
def delete(user: UserOpt, episode_id: IdArg, db: DbOpt = None, encoder: EncoderOpt = DEFAULT_ENCODER) -> None:
    """Delete one episode, its vector and its index entries."""
    with _open(db, encoder) as m:
        m.delete(episode_id, user_id=user)
    _console().print(f"deleted {escape(episode_id)}")


@app.command()
def erase(
    user: UserOpt,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Really erase.")] = False,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """Remove everything of one user, for good (needs --yes)."""
    if not yes:
        _fail(f"refusing to erase every episode of user {user!r} without --yes")
    with _open(db, encoder) as m:
        removed = m.erase(user_id=user)
    _console().print(f"erased {removed} episode(s) of user {escape(user)!r}")


# -- reads ----------------------------------------------------------------------
@app.command()
def search(
    user: UserOpt,
    query: QueryArg,
    k: KOpt = 10,
    now: NowOpt = None,
    session: SessionsOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    role: RolesOpt = None,
    expand: ExpandOpt = 0,
    channels: ChannelsOpt = None,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """Recall the episodes that best answer QUERY."""
    names = [c.strip() for c in channels.split(",") if c.strip()] if channels is not None else None
    with _open(db, encoder) as m:
        hits = m.search(
            query,
            user_id=user,
            k=k,
            now=now,
            session_id=session,
            since=since,
            until=until,
            role=role,
            expand=expand,
            channels=names,
        )
    if as_json:
        _print_json([h.to_dict() for h in hits])
    elif hits:
        _console().print(_hits_table(hits))
    else:
        _console().print("no episodes matched")


@app.command()
def get(
    episode_id: IdArg,
    user: UserOpt,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """Show one episode."""
    with _open(db, encoder) as m:
        record = m.get(episode_id, user_id=user).to_dict()
    if as_json:
        _print_json(record)
    else:
        _console().print(_fields_table(record))


@app.command("list")
def list_(
    user: UserOpt,
    session: SessionsOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    role: RolesOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="Episodes per page.")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many episodes first.")] = 0,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """List a user's episodes in time order, a page at a time."""
    with _open(db, encoder) as m:
        page = m.list(user_id=user, limit=limit, offset=offset, session_id=session, since=since, until=until, role=role)
    if as_json:
        _print_json({"items": [e.to_dict() for e in page.items], "total": page.total, "next_offset": page.next_offset})
        return
    console = _console()
    if page.items:
        console.print(_episodes_table(page.items))
    more = f"; next page: --offset {page.next_offset}" if page.next_offset is not None else ""
    console.print(f"{len(page.items)} of {page.total} episode(s) from offset {offset}{more}")


@app.command()
def sessions(
    user: UserOpt,
    limit: LimitOpt = 50,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """List a user's sessions, most recent first."""
    with _open(db, encoder) as m:
        found = m.sessions(user_id=user, limit=limit)
    if as_json:
        _print_json(
            [{**asdict(s), "started_at": s.started_at.isoformat(), "ended_at": s.ended_at.isoformat()} for s in found]
        )
        return
    if not found:
        _console().print("no sessions")
        return
    table = Table("session", "started", "ended", "episodes", "agent", "run")
    for s in found:
        row = (s.id, f"{s.started_at:%Y-%m-%d %H:%M}", f"{s.ended_at:%Y-%m-%d %H:%M}", s.episodes, s.agent_id, s.run_id)
        table.add_row(*(Text(str(v) if v is not None else "") for v in row))
    _console().print(table)


@app.command()
def stats(
    user: AnyUserOpt = None, as_json: JsonOpt = False, db: DbOpt = None, encoder: EncoderOpt = DEFAULT_ENCODER
) -> None:
    """Counts and size of the memory, or of one user's part of it."""
    with _open(db, encoder) as m:
        numbers = asdict(m.stats(user_id=user))
    if as_json:
        _print_json(numbers)
    else:
        _console().print(_fields_table(numbers))


@app.command()
def context(
    query: Annotated[str, typer.Argument(help="What the context is for (a question or task).")],
    user: UserOpt,
    budget: Annotated[int, typer.Option(help="Token budget for the block (about 4 characters a token).")] = 1000,
    now: Annotated[str | None, typer.Option(help="When the question is asked, ISO 8601 (default: now).")] = None,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """Print a prompt-ready block of dated evidence for QUERY, within --budget tokens."""
    with _open(db, encoder) as m:
        typer.echo(m.context(query, user_id=user, budget_tokens=budget, now=now))


@app.command()
def reindex(db: DbOpt = None, encoder: EncoderOpt = DEFAULT_ENCODER) -> None:
    """Re-embed every episode with --encoder (after switching encoders)."""
    with _open(db, encoder) as m, _console().status("re-embedding…"):
        n = m.reindex()
    _console().print(f"re-embedded {n} episodes with {encoder}")


# -- semantic memory ------------------------------------------------------------
AllOpt = Annotated[bool, typer.Option("--all", help="Include facts that newer ones superseded.")]
SubjectOpt = Annotated[str | None, typer.Option(help="Only facts about this subject (a speaker name, or 'user').")]
FactIdArg = Annotated[str, typer.Argument(help="A fact id (from `hippodex facts`).", show_default=False)]


def _facts_table(facts: Sequence[Fact]) -> Table:
    # The id goes on its own line under the fact, whole: it is what `hippodex history`
    # takes, and a column of its own was cut short in an 80-column terminal or a pipe.
    table = Table("fact (id)", "since", "until", "seen", "sources")
    for f in facts:
        style = "" if f.current else "dim"
        table.add_row(
            Text.assemble((f.text, style), "\n", (f.id, "dim"), overflow="fold"),
            f"{f.valid_from:%Y-%m-%d}" if f.valid_from else "",
            f"{f.valid_to:%Y-%m-%d}" if f.valid_to else ("" if f.current else "superseded"),
            str(f.seen),
            str(len(f.sources)),
        )
    return table


@app.command()
def facts(
    user: UserOpt,
    include_superseded: AllOpt = False,
    subject: SubjectOpt = None,
    limit: LimitOpt = 100,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """List what the memory knows about a user (current facts, newest first)."""
    with _open(db, encoder) as m:
        found = m.facts(user, current_only=not include_superseded, subject=subject, limit=limit)
    if as_json:
        _print_json([f.to_dict() for f in found])
    elif not found:
        _console().print("no facts (run `hippodex consolidate` if episodes were added without learning)")
    else:
        _console().print(_facts_table(found))


@app.command()
def history(
    fact_id: FactIdArg,
    user: AnyUserOpt = None,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """Show a fact's chain: what it superseded and what superseded it, oldest first."""
    with _open(db, encoder) as m:
        chain = m.history(fact_id, user_id=user)
    if as_json:
        _print_json([f.to_dict() for f in chain])
    else:
        _console().print(_facts_table(chain))


@app.command()
def entities(
    user: UserOpt,
    limit: LimitOpt = 100,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """List the people, places and things a user's episodes mention, most mentioned first."""
    with _open(db, encoder) as m:
        found = m.entities(user, limit=limit)
    if as_json:
        _print_json([e.to_dict() for e in found])
        return
    table = Table("entity", "kind", "mentions", "aliases", "first seen", "last seen")
    for e in found:
        table.add_row(
            e.name, e.kind, str(e.mentions), ", ".join(e.aliases), f"{e.first_seen:%Y-%m-%d}", f"{e.last_seen:%Y-%m-%d}"
        )
    _console().print(table if found else "no entities")


@app.command()
def consolidate(
    user: AnyUserOpt = None,
    cold_after_days: Annotated[
        float | None, typer.Option(help="Move vectors of episodes older than this many days to --cold-tier.")
    ] = None,
    cold_tier: Annotated[str, typer.Option(help="Tier for cold vectors: int8 or binary.")] = "int8",
    as_json: JsonOpt = False,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """Sleep: learn facts from new episodes, merge duplicates, summarise sessions, re-tier cold vectors."""
    with _open(db, encoder) as m, _console(stderr=True).status("consolidating…"):
        report = m.consolidate(user_id=user, cold_after_days=cold_after_days, cold_tier=cold_tier).to_dict()
    if as_json:
        _print_json(report)
    else:
        _console().print(_fields_table(report))


# -- export and import ----------------------------------------------------------
@app.command("import")
def import_(
    file: FileArg,
    user: ImportUserOpt = None,
    fmt: FormatOpt = "auto",
    new_ids: Annotated[
        bool, typer.Option("--new-ids", help="Give the records fresh ids: to copy a user's export to another user.")
    ] = False,
    batch: BatchOpt = 500,
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """Import episodes from a file; a malformed record stops the import and names its line.

    Records are committed a batch at a time, so batches before a bad record
    stay stored (the error says how many episodes that is). Episodes whose ids
    the user already has are skipped, so an export file can be imported again
    after an interruption. To copy an export to another user (--user), add
    --new-ids: in a SQLite file, where ids are unique across users, ids
    another user's episodes have are an error otherwise.
    """
    # Opened and checked before the database, so a missing or unreadable file leaves no empty one behind.
    records = read_records(file, fmt=fmt, user_id=user)
    read = 0
    err = _console(stderr=True)
    with (
        _open(db, encoder, create=True) as m,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar,
    ):
        task = bar.add_task(f"reading {file.name}")

        def counted(records: Iterable[tuple[int, dict[str, Any]]]) -> Iterator[tuple[int, dict[str, Any]]]:
            nonlocal read
            for record in records:
                yield record
                read += 1
                bar.update(task, description=f"{file.name}: {read} records read")

        # import_episodes notes on any error how many episodes were stored before it.
        result = m.import_episodes(counted(records), batch=batch, new_ids=new_ids)
    _console().print(f"{read} records read: {result.added} added, {result.skipped} skipped (already present)")


@app.command()
def export(
    user: AnyUserOpt = None,
    out: OutOpt = "-",
    db: DbOpt = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
) -> None:
    """Write episodes as JSONL, oldest first; `hippodex import` reads it back."""
    count = 0
    with _open(db, encoder) as m, _output(out) as stream:
        for record in m.export(user_id=user):
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    if out != "-":
        _console(stderr=True).print(f"exported {count} episode(s) to {escape(out)}")


@contextmanager
def _output(out: str) -> Iterator[TextIO]:
    """``out`` opened for writing (``-``: stdout), or the reason it cannot be, as an error line."""
    if out == "-":
        yield sys.stdout
        return
    try:
        stream = open(out, "w", encoding="utf-8")  # noqa: SIM115  # closed below, after the writes
    except OSError as exc:
        raise ValidationError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    with stream:
        yield stream


# -- demo -------------------------------------------------------------------------
DEMO_USER = "demo"
DEMO_NOW = "2024-09-01T12:00"
DEMO_QUERIES = (
    ("Which city did we relocate to?", "a paraphrase: no word in common with the answer"),
    ("What breed is my dog?", "Maya never says 'dog': Pepper is her border collie"),
    ("What does my sister do for a living?", "a person, her name and her job"),
    ("When do we fly to Japan?", "a date said in passing, months before the trip"),
    ("Can I eat satay?", "a fact that matters in more than one session"),
)


@app.command()
def demo(db: DemoDbOpt = None, encoder: EncoderOpt = DEFAULT_ENCODER) -> None:
    """Record a short demo conversation, then show what recall finds in it. Start here."""
    path = db if db is not None else str(Path(tempfile.mkdtemp(prefix="hippodex-demo-")) / "memory.db")
    shown = redact(path)
    console = _console()
    with _open(path, encoder, create=True) as m:
        if m.stats(user_id=DEMO_USER).episodes:
            console.print(f"Using the demo conversation already in {escape(shown)}.")
        else:
            with as_file(files("hippodex.data") / "demo.jsonl") as source:
                added = m.import_episodes(read_records(source, fmt="messages")).added
            console.print(
                f"Recorded {added} turns of Maya talking with her assistant over five sessions "
                f"(February to August 2024) into [bold]{escape(shown)}[/bold]."
            )
        lexical_only = (
            " (lexical only: run without --encoder none to find paraphrases too)" if encoder == "none" else ""
        )
        console.print(f"Recalling as of {DEMO_NOW}, user {DEMO_USER!r}{lexical_only}:\n")
        for question, why in DEMO_QUERIES:
            hits = m.search(question, user_id=DEMO_USER, k=3, now=DEMO_NOW)
            title = f"[bold]{escape(question)}[/bold]  [dim]{escape(why)}[/dim]"
            console.print(_hits_table(hits, title) if hits else f"{title}\n  no episodes matched\n")
    where = shlex.quote(shown)
    # The temporary folder outlives the demo, for the commands below; say how to remove it.
    cleanup = f"\nand when done:\n  rm -r {shlex.quote(str(Path(path).parent))}" if db is None else ""
    console.print(
        f'Now ask your own question:\n  hippodex search "where did Maya move?" --user demo --db {where}\n'
        f'or record your own memories:\n  hippodex add "I just adopted a cat" --user me --db {where}{cleanup}',
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command()
def version() -> None:
    """Print the hippodex version."""
    typer.echo(f"hippodex {__version__}")


def main() -> None:
    """Entry point of the ``hippodex`` console script."""
    app()


try:  # benchmarks live in their own module; the CLI works without them
    from hippodex.bench.cli import bench_app
except ImportError:
    pass
else:
    app.add_typer(bench_app, name="bench")  # its help is its own, so the two never disagree

# Servers register their own commands (serve, keys, mcp); their heavy
# dependencies are imported only when one of those commands runs.
for _module in ("hippodex.server.cli", "hippodex.mcp_server.cli"):
    try:
        _register = __import__(_module, fromlist=["register"]).register
    except ImportError:
        continue
    _register(app)
