"""SQL that both SQL backends build the same way, differing only in dialect."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from hippodex._exceptions import SchemaError
from hippodex._version import __version__
from hippodex.store.base import Filters


class SqlCursor(Protocol):
    """What both sqlite3 and psycopg cursors offer."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class SqlConnection(Protocol):
    """What both a ``sqlite3.Connection`` and a psycopg connection offer."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> SqlCursor: ...


@dataclass(frozen=True)
class Dialect:
    """How a backend spells a parameter, "one of these values", JSON equality and
    the few functions the two engines name differently.

    >>> POSTGRES.sql("UPDATE t SET a = greatest(a, ?) WHERE id = ?")
    'UPDATE t SET a = greatest(a, %s) WHERE id = %s'
    """

    mark: str  # "?" (sqlite3) or "%s" (psycopg)
    postgres: bool = False
    greatest: str = "max"  # the larger of two values (SQLite's scalar max)
    least: str = "min"
    instr: str = "instr"  # position of a substring, 0 when absent: instr(haystack, needle)
    collate: str = ""  # appended to ORDER BY on text so both sort by code point

    def sql(self, statement: str) -> str:
        """``statement`` written with ``?`` marks, in this backend's marks.

        Only for statements with no ``?`` (or ``%``) of their own outside parameters.
        """
        return statement if self.mark == "?" else statement.replace("?", self.mark)

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        if self.postgres:
            return f"{column} = ANY({self.mark})", [list(values)]
        return f"{column} IN ({','.join(self.mark * len(values))})", list(values)

    def json_equals(self, column: str, key: str, value: Any) -> tuple[str, list[Any]]:
        """Whether the JSON object in ``column`` holds ``key`` with a value JSON-equal to ``value``.

        Both backends give jsonb's answers: null equals null, true is not 1,
        1 equals 1.0, objects ignore key order, arrays compare in order.
        """
        if self.postgres:
            return f"({column}::jsonb -> {self.mark}) = {self.mark}::jsonb", [key, json.dumps(value)]
        return _sqlite_json_equals(column, key, value)


#: The SQL function :func:`json_member_equals` is registered under on every SQLite store's connection.
JSON_MEMBER_EQUALS = "hippodex_json_member_equals"
_INT64 = range(-(2**63), 2**63)


def _sqlite_json_equals(column: str, key: str, value: Any) -> tuple[str, list[Any]]:
    """SQLite's spelling of :meth:`Dialect.json_equals`.

    ``json_each`` matches the key as plain text (no JSON-path quoting) and its
    ``type`` tells true from 1. Scalars compare in SQL; objects, arrays and
    integers past 64 bits (which SQLite reads as doubles) go to Python.

    >>> _sqlite_json_equals("m", 'a"b', None)
    ("EXISTS (SELECT 1 FROM json_each(m) j WHERE j.key = ? AND j.type = 'null')", ['a"b'])
    """
    in_python = f"{JSON_MEMBER_EQUALS}({column}, ?, ?)"
    exact: list[Any] = [key, json.dumps(value, ensure_ascii=False)]
    args: list[Any] = []
    if value is None or isinstance(value, bool):
        cond = f"j.type = '{json.dumps(value)}'"
    elif isinstance(value, str):
        cond, args = "j.type = 'text' AND j.value = ?", [value]
    elif isinstance(value, float) or (isinstance(value, int) and value in _INT64):
        # A stored integer past 64 bits comes back as a double: compare its text in Python.
        big = "j.type = 'integer' AND typeof(j.value) = 'real'"
        cond = f"j.type IN ('integer', 'real') AND CASE WHEN {big} THEN {in_python} ELSE j.value = ? END"
        args = [*exact, value]
    else:
        cond, args = f"j.type IN ({_json_types(value)}) AND {in_python}", exact
    return f"EXISTS (SELECT 1 FROM json_each({column}) j WHERE j.key = ? AND {cond})", [key, *args]


def _json_types(value: Any) -> str:
    """The ``json_each`` types a value compared in Python may match."""
    if isinstance(value, dict):
        return "'object'"
    if isinstance(value, list | tuple):
        return "'array'"
    return "'integer', 'real'"


def json_member_equals(document: str, key: str, value: str) -> bool:
    """Whether the JSON object ``document`` holds ``key`` with a value JSON-equal to the JSON ``value``.

    >>> json_member_equals('{"d": {"x": 1, "y": 2.0}}', "d", '{"y": 2, "x": 1}')
    True
    >>> json_member_equals('{"b": 1}', "b", "true")
    False
    """
    try:
        found = _parse_json(document)
    except ValueError:
        return False
    return isinstance(found, dict) and key in found and _json_same(found[key], _parse_value(value))


def _parse_json(text: str) -> Any:
    # Decimal keeps numbers exact, as PostgreSQL's numeric does.
    return json.loads(text, parse_float=Decimal)


_parse_value = functools.lru_cache(maxsize=64)(_parse_json)  # a filter's value: parsed once, not once a row


def _json_same(a: Any, b: Any) -> bool:
    """JSON equality: ``True`` is not ``1`` (though Python says so), ``1`` is ``1.0``, key order is irrelevant."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_json_same, a, b))
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | Decimal) and isinstance(b, int | Decimal):
        return a == b
    return isinstance(a, str) and isinstance(b, str) and a == b


SQLITE = Dialect("?")
POSTGRES = Dialect("%s", postgres=True, greatest="greatest", least="least", instr="strpos", collate=' COLLATE "C"')


def filter_sql(filters: Filters, dialect: Dialect, alias: str = "e") -> tuple[str, list[Any]]:
    """SQL conditions for ``filters`` (each prefixed with `` AND ``) and their parameters.

    >>> filter_sql(Filters(roles=("user",), run_id="r1"), SQLITE)
    (' AND e.run_id = ? AND e.role IN (?)', ['r1', 'user'])
    """
    sql: list[str] = []
    args: list[Any] = []

    def add(condition: str, values: list[Any]) -> None:
        sql.append(condition)
        args.extend(values)

    m = dialect.mark
    if filters.agent_id is not None:
        add(f"{alias}.agent_id = {m}", [filters.agent_id])
    if filters.run_id is not None:
        add(f"{alias}.run_id = {m}", [filters.run_id])
    if filters.session_ids:
        add(*dialect.one_of(f"{alias}.session_id", filters.session_ids))
    if filters.since is not None:
        add(f"{alias}.occurred_at >= {m}", [filters.since.timestamp()])
    if filters.until is not None:
        add(f"{alias}.occurred_at < {m}", [filters.until.timestamp()])
    if filters.roles:
        add(*dialect.one_of(f"{alias}.role", filters.roles))
    for key, value in filters.metadata:
        add(*dialect.json_equals(f"{alias}.metadata", key, value))
    return "".join(f" AND {s}" for s in sql), args


def stored_schema_version(conn: SqlConnection, path: str, tables: Collection[str], *, current: int, hint: str) -> int:
    """The schema version an opened database records (0 when it is empty).

    ``tables`` are the tables found that hippodex could have made; ``hint`` says
    where else to go when they are not a hippodex memory. Raises SchemaError for
    a foreign database, a missing version, or a version newer than ``current``.
    """
    if "meta" not in tables:
        if tables:
            raise SchemaError(f"{path} has tables {', '.join(sorted(tables)[:5])} but is not a hippodex memory; {hint}")
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        raise SchemaError(f"{path} has no schema version: not a hippodex memory")
    try:
        version = int(row[0])
    except (TypeError, ValueError):
        raise SchemaError(f"{path} records schema version {row[0]!r}, not a number: not a hippodex memory") from None
    if version > current:
        raise SchemaError(
            f"{path} has schema version {version}, newer than this hippodex "
            f"({__version__}, schema {current}); upgrade with `pip install -U hippodex`"
        )
    return version


def stamp_schema(conn: SqlConnection, dialect: Dialect, current: int) -> None:
    """Record the schema version and hippodex version (and, the first time, when it was made)."""
    conn.execute(
        dialect.sql(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?), ('hippodex_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        (str(current), __version__),
    )
    conn.execute(
        dialect.sql("INSERT INTO meta (key, value) VALUES ('created_at', ?) ON CONFLICT DO NOTHING"),
        (str(time.time()),),
    )
