"""Errors raised by hippodex.

Every error derives from :class:`HippodexError`, so callers can catch at the
level they can act on::

    HippodexError
    ├── ConfigError        (also a ValueError) a setting or argument is invalid
    ├── ValidationError    (also a ValueError) input to add/search/import is malformed
    │   └── ImportFormatError  an import file is malformed (names line and field)
    ├── StoreError         the database cannot be opened, read or written
    │   └── SchemaError    the file is not a hippodex database, or is newer than this code
    ├── EncoderError       the embedder could not be loaded or failed
    └── MemoryNotFound     (also a KeyError) no episode with that id in that scope

One warning, :class:`MissingVectorsWarning` (a ``UserWarning``), says when dense
recall cannot see some of a user's episodes.

sqlite3 and onnxruntime errors are translated into these at the store and
encoder boundaries; nothing else leaks out of the public API.
"""

from __future__ import annotations


class HippodexError(Exception):
    """Base class of every error hippodex raises."""


class ConfigError(HippodexError, ValueError):
    """A setting or argument is invalid; the message names it."""


class ValidationError(HippodexError, ValueError):
    """Input given to the API is malformed; the message says what to fix."""


class ImportFormatError(ValidationError):
    """An import file is malformed; the message names the line and the field."""

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None) -> None:
        where = []
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.line = line
        self.field = field


class StoreError(HippodexError):
    """The database cannot be opened, read or written."""


class SchemaError(StoreError):
    """The file is not a hippodex database, or was written by a newer hippodex."""


class EncoderError(HippodexError):
    """The encoder could not be loaded or failed to embed."""


class MemoryNotFound(HippodexError, KeyError):
    """No episode with that id exists in the given scope."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "memory not found"


class MissingVectorsWarning(UserWarning):
    """Some of a user's episodes have no vector for the encoder searching them (they were
    added with ``encoder=None``), so dense recall cannot find them until ``reindex()``."""
