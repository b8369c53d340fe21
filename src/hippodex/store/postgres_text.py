"""Lexical analysis and BM25 for the PostgreSQL store, matching the SQLite store.

The SQLite store indexes keys with FTS5's ``porter unicode61 remove_diacritics 2``
tokenizer and ranks with FTS5's ``bm25()``. PostgreSQL's own parsers split
and stem differently (its English stemmer is Porter2, its parser keeps
``e-mail`` and ``3.5`` whole), so here the very same FTS5 tokenizer runs in an
in-memory SQLite database (the standard library has it) and PostgreSQL gets
the finished lexemes as a ``tsvector``. Matching then uses the GIN index on
that ``tsvector``, and :func:`bm25` scores with FTS5's formula.

>>> analyze(["Ana moved to Lisbon, running"])
[['ana', 'move', 'to', 'lisbon', 'run']]
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence

import numpy as np

# The tokenizer of the SQLite store's episodes_fts and sessions_fts tables.
FTS5_TOKENIZE = "porter unicode61 remove_diacritics 2"

# FTS5's bm25() defaults.
K1 = 1.2
B = 0.75

# tsvector limits: at most 256 positions per lexeme, lexemes under 2 KiB.
_MAX_POSITIONS = 256
_MAX_LEXEME_BYTES = 2046


class _Analyzer:
    """FTS5's tokenizer, reached through an in-memory table and fts5vocab."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._db.execute(f"CREATE VIRTUAL TABLE doc USING fts5 (body, tokenize = '{FTS5_TOKENIZE}')")
        self._db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab (doc, instance)")

    def tokens(self, texts: Sequence[str]) -> list[list[str]]:
        out: list[list[str]] = [[] for _ in texts]
        if not texts:
            return out
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT INTO doc (rowid, body) VALUES (?, ?)", enumerate(texts))
                for term, doc in self._db.execute("SELECT term, doc FROM vocab ORDER BY doc, offset"):
                    out[doc].append(term)
            finally:
                self._db.execute("ROLLBACK")  # the table is only a tokenizer: keep it empty
        return out


_ANALYZER = _Analyzer()


def analyze(texts: Sequence[str]) -> list[list[str]]:
    """The FTS5 tokens of each text, in order (lower-cased, unaccented, Porter-stemmed)."""
    return _ANALYZER.tokens(texts)


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tenant_lexeme(token: str) -> str:
    """The lexeme that marks a user's rows; ``~`` never occurs in an FTS5 token."""
    return "~" + token


def tsvector_literal(tokens: Sequence[str], tenant: str | None = None) -> str:
    """A ``tsvector`` whose lexeme positions count the term's occurrences.

    Positions are 1..tf rather than where the word stood: only counts are
    read back (BM25 needs term frequency), and this keeps every count exact
    up to tsvector's 256 positions per lexeme.

    >>> tsvector_literal(["run", "fast", "run"])
    "'run':1,2 'fast':1"
    """
    counts = Counter(t for t in tokens if len(t.encode()) <= _MAX_LEXEME_BYTES)
    parts = [
        _quote(lex) + ":" + ",".join(str(p) for p in range(1, min(tf, _MAX_POSITIONS) + 1))
        for lex, tf in counts.items()
    ]
    if tenant is not None:
        parts.append(_quote(tenant_lexeme(tenant)))
    return " ".join(parts)


def tsquery_literal(lexemes: Sequence[str], tenant: str | None = None) -> str:
    """A ``tsquery`` matching any of the lexemes (within the tenant's rows if given).

    >>> tsquery_literal(["lisbon", "move"], tenant="t1")
    "'~t1' & ( 'lisbon' | 'move' )"
    """
    body = " | ".join(_quote(lex) for lex in dict.fromkeys(lexemes))
    return body if tenant is None else f"{_quote(tenant_lexeme(tenant))} & ( {body} )"


def query_lexemes(terms: Sequence[str]) -> list[str]:
    """The lexeme of each query term, in order (a term FTS5 would split counts by its first part).

    >>> query_lexemes(["running", "Café", "the"])
    ['run', 'cafe', 'the']
    """
    return [toks[0] for toks in analyze(list(terms)) if toks]


def idf(n_docs: int, df: np.ndarray) -> np.ndarray:
    """FTS5's inverse document frequency: ln((N - n + 0.5) / (n + 0.5)), floored at 1e-6.

    Robertson and Zaragoza, "The Probabilistic Relevance Framework: BM25 and
    Beyond" (2009), eq. 3.3; FTS5 (fts5_aux.c) replaces non-positive values by 1e-6.

    >>> [round(x, 6) for x in idf(10, np.array([1, 9])).tolist()]
    [1.845827, 1e-06]
    """
    raw = np.log((n_docs - df + 0.5) / (df + 0.5))
    return np.where(raw > 0, raw, 1e-6)


def bm25(tf: np.ndarray, term_idf: np.ndarray, doc_len: np.ndarray, avgdl: float) -> np.ndarray:
    """Okapi BM25 contribution of one term to each document (k1 = 1.2, b = 0.75, as FTS5).

    >>> float(bm25(np.array([1.0]), np.array([1.0]), np.array([10.0]), 10.0)[0])
    1.0
    """
    avg = avgdl if avgdl > 0 else 1.0
    return term_idf * (tf * (K1 + 1.0)) / (tf + K1 * (1.0 - B + B * doc_len / avg))


def score_matches(
    term_lexemes: Sequence[str],
    rows: Sequence[tuple[int, int, str, int]],
    n_docs: int,
    avgdl: float,
) -> dict[int, float]:
    """BM25 of each matched document: ``rows`` are ``(doc, length, lexeme, tf)``.

    Every query term is scored on its own, as FTS5 scores each phrase of an OR
    query (two terms with one stem count twice there, and here). A term of
    """
    if not rows:
        return {}
    docs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    lens = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    lexemes = np.array([r[2] for r in rows], dtype=object)
    tfs = np.fromiter((r[3] for r in rows), dtype=np.float64, count=len(rows))
    uniq, inverse = np.unique(docs, return_inverse=True)
    total = np.zeros(len(uniq), dtype=np.float64)
    for lex in term_lexemes:
        sel = lexemes == lex
        if not sel.any():
            continue
        df = np.array([sel.sum()], dtype=np.float64)  # unnest(tsvector) gives one row per lexeme
        np.add.at(total, inverse[sel], bm25(tfs[sel], idf(n_docs, df), lens[sel], avgdl))
    return dict(zip(uniq.tolist(), total.tolist(), strict=True))
