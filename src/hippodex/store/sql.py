"""SQL that both SQL backends build the same way, differing only in dialect."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hippodex.store.base import Filters


@dataclass(frozen=True)
class Dialect:
    """How a backend spells a parameter, "one of these values" and JSON equality."""

    mark: str  # "?" (sqlite3) or "%s" (psycopg)
    postgres: bool = False

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        if self.postgres:
            return f"{column} = ANY({self.mark})", [list(values)]
        return f"{column} IN ({','.join(self.mark * len(values))})", list(values)

    def json_equals(self, column: str, key: str, value: Any) -> tuple[str, list[Any]]:
        if self.postgres:
            return f"({column}::jsonb -> {self.mark}) = {self.mark}::jsonb", [key, json.dumps(value)]
        return f"json_extract({column}, ?) = json_extract(?, '$')", [f'$."{key}"', json.dumps(value)]


SQLITE = Dialect("?")
POSTGRES = Dialect("%s", postgres=True)


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
