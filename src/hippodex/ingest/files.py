"""Opening import files: gzip is told by its bytes, not its name, and a file that
breaks while being read gets an error that says what is wrong with it."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any

from hippodex._exceptions import ImportFormatError

GZIP_MAGIC = b"\x1f\x8b"
SQLITE_MAGIC = b"SQLite format 3\x00"
# What a damaged or mislabelled file raises while it is read (BadGzipFile is an OSError).
READ_ERRORS = (OSError, EOFError, zlib.error)


def is_gzip(path: Path) -> bool:
    """Whether to read ``path`` through gzip, by its magic bytes; a ``.gz`` name that lies is an error."""
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        raise ImportFormatError(
            f"{path}: a SQLite database, not an import file; to copy a memory, "
            f"run `hippodex export --db {path} -o FILE.jsonl` and import that"
        )
    if head.startswith(GZIP_MAGIC):
        return True
    if path.suffix == ".gz":
        raise ImportFormatError(f"{path}: not gzip-compressed, though its name ends in .gz")
    return False


def unreadable(path: Path, exc: BaseException) -> ImportFormatError:
    """The error for a file that breaks while being read, naming what is wrong with it."""
    if isinstance(exc, EOFError):
        return ImportFormatError(f"{path}: the compressed data ends early (is the file truncated?)")
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return ImportFormatError(f"{path}: the compressed data is corrupt ({exc})")
    if isinstance(exc, OSError):
        return ImportFormatError(f"{path}: cannot be read ({exc.strerror or exc})")
    return ImportFormatError(f"{path}: cannot be read ({exc})")


def open_text(path: Path) -> Any:
    """``path`` opened as UTF-8 text, through gzip when its bytes say so."""
    return gzip.open(path, "rt", encoding="utf-8") if is_gzip(path) else path.open(encoding="utf-8")


def open_bytes(path: Path) -> Any:
    """``path`` opened as bytes, through gzip when its bytes say so."""
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")
