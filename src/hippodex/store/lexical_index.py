"""An in-memory BM25 index of one user's index keys, for scopes too big for FTS5's ``bm25()``.

FTS5 evaluates ``bm25()`` row by row for every match, so a common term costs
tens of milliseconds at 100k rows. Here the postings of each term are numpy
arrays (CSR: term -> doc indexes and term frequencies, plus every doc's
length), and one query is a handful of vectorised gathers.

The postings are FTS5's own: a full build reads the store's FTS5 index through
``fts5vocab`` (no tokenising in Python), appended keys are tokenised by the
very same tokenizer (:func:`hippodex.store.postgres_text.analyze`), and scores
use FTS5's formula (:func:`~hippodex.store.postgres_text.idf`,
:func:`~hippodex.store.postgres_text.bm25`) with the index's own row count and
average length. For a file holding one user this gives FTS5's scores; with
several users FTS5 counts everyone's rows, this counts the user's.

>>> ix = from_tokens(np.array([7, 9, 12]), [["ana", "run"], ["run", "run"], ["bo"]], other_len=1.0)
>>> [round(s, 4) for s in scores(ix, ["ana"]).tolist()]
[0.486, 0.0, 0.0]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from hippodex.store.postgres_text import bm25, idf

_NONE = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint8))


@dataclass(frozen=True)
class Segment:
    """Postings of a run of docs: term ``t``'s are ``docs[indptr[t]:indptr[t + 1]]`` (ascending).

    Terms added to the vocabulary after the segment was built lie past
    ``indptr``'s end and have no postings in it.
    """

    indptr: np.ndarray  # int64, n_terms + 1
    docs: np.ndarray  # int32 doc index (into LexicalIndex.rowids)
    tfs: np.ndarray  # smallest unsigned int dtype holding the largest count

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        if term + 1 >= len(self.indptr):
            return _NONE
        lo, hi = int(self.indptr[term]), int(self.indptr[term + 1])
        return self.docs[lo:hi], self.tfs[lo:hi]

    @property
    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.docs.nbytes + self.tfs.nbytes)


@dataclass(frozen=True)
class LexicalIndex:
    """One user's keys as postings, doc ``i`` being the episode ``rowids[i]``."""

    rowids: np.ndarray  # int64, ascending
    body_len: np.ndarray  # float64 tokens of each key
    #: Tokens each row has in FTS5's other columns (the tenant token): FTS5
    #: counts every column in a row's length, so BM25 must too.
    other_len: float
    #: term -> id. Only grows, and is shared with the indexes extending this one.
    vocab: dict[str, int]
    segments: tuple[Segment, ...]
    #: Lengths of doc groups (sessions), computed once per grouping.
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Doc indexes (ascending) and counts of a term, over every segment."""
        tid = self.vocab.get(term)
        if tid is None:
            return _NONE
        parts = [s.postings(tid) for s in self.segments]
        parts = [p for p in parts if len(p[0])]
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return _NONE
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1].astype(np.uint32) for p in parts])

    @property
    def lengths(self) -> np.ndarray:
        """Each doc's length as FTS5 counts it (all columns)."""
        out = self.derived.get("lengths")
        if out is None:
            out = self.body_len + self.other_len
            self.derived["lengths"] = out
        return out

    @property
    def avgdl(self) -> float:
        """Mean doc length (FTS5's ``avgdl``)."""
        out = self.derived.get("avgdl")
        if out is None:
            out = float(self.lengths.sum()) / max(1, len(self.rowids))
            self.derived["avgdl"] = out
        return float(out)

    @property
    def nbytes(self) -> int:
        return int(self.rowids.nbytes + self.body_len.nbytes + sum(s.nbytes for s in self.segments))

    def extend(self, rowids: np.ndarray, tokens: Sequence[Sequence[str]]) -> LexicalIndex:
        """This index with docs appended (``rowids`` above every current one).

        Appends become a new segment; once there are many, the small ones are
        merged, and once they hold a quarter of the postings, all are.
        """
        if not len(rowids):
            return self
        start = len(self.rowids)
        seg, body = _segment(tokens, self.vocab, start)
        segments = (*self.segments, seg)
        if len(segments) > 8:
            base, rest = segments[0], segments[1:]
            small = _merge(rest, len(self.vocab))
            whole = len(small.docs) * 4 > len(base.docs)
            segments = (_merge((base, small), len(self.vocab)),) if whole else (base, small)
        return LexicalIndex(
            np.concatenate([self.rowids, rowids.astype(np.int64)]),
            np.concatenate([self.body_len, body]),
            self.other_len,
            self.vocab,
            segments,
        )


@runtime_checkable
class HasLexicalIndex(Protocol):
    """A store that can hand recall a user's keys as a :class:`LexicalIndex`.

    ``lexical_index_exact`` says whether the index gives the store's own BM25
    scores at any size. If so, recall always uses it; if not (SQLite's FTS5
    counts every user of the file in its statistics), only from
    ``RecallConfig.lexical_index_threshold`` memories on.
    """

    lexical_index_exact: bool

    def lexical_index(self, user_id: str) -> LexicalIndex: ...


def _tf_dtype(tfs: np.ndarray) -> np.dtype[Any]:
    return np.min_scalar_type(int(tfs.max()) if len(tfs) else 0)


def _segment(tokens: Sequence[Sequence[str]], vocab: dict[str, int], start: int) -> tuple[Segment, np.ndarray]:
    """A segment of token lists (docs ``start``, ``start + 1``, ...), growing ``vocab``; and body lengths."""
    terms: list[int] = []
    docs: list[int] = []
    tfs: list[int] = []
    for i, toks in enumerate(tokens):
        for term, tf in Counter(toks).items():
            terms.append(vocab.setdefault(term, len(vocab)))
            docs.append(start + i)
            tfs.append(tf)
    t = np.asarray(terms, dtype=np.int64)
    order = np.argsort(t, kind="stable")  # docs stay ascending within a term
    tf_arr = np.asarray(tfs, dtype=np.int64)[order]
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(np.bincount(t, minlength=len(vocab)), out=indptr[1:])
    seg = Segment(indptr, np.asarray(docs, dtype=np.int32)[order], tf_arr.astype(_tf_dtype(tf_arr)))
    return seg, np.array([len(toks) for toks in tokens], dtype=np.float64)


def _merge(segments: Sequence[Segment], n_terms: int) -> Segment:
    """One segment holding the postings of several (given in doc order)."""
    terms = np.concatenate([np.repeat(np.arange(len(s.indptr) - 1), np.diff(s.indptr)) for s in segments])
    docs = np.concatenate([s.docs for s in segments])
    tfs = np.concatenate([s.tfs.astype(np.uint32) for s in segments])
    order = np.argsort(terms, kind="stable")
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=n_terms), out=indptr[1:])
    return Segment(indptr, docs[order], tfs[order].astype(_tf_dtype(tfs)))


def from_tokens(rowids: np.ndarray, tokens: Sequence[Sequence[str]], other_len: float) -> LexicalIndex:
    """An index of docs given as token lists (FTS5 tokens of each key), ``rowids`` ascending."""
    vocab: dict[str, int] = {}
    seg, body = _segment(tokens, vocab, 0)
    return LexicalIndex(np.asarray(rowids, dtype=np.int64), body, other_len, vocab, (seg,))


def from_instances(
    rowids: np.ndarray, terms: Sequence[str], instances: Sequence[np.ndarray], other_len: float
) -> LexicalIndex:
    """An index from FTS5's token instances: ``instances[t]`` holds the rowid of
    every occurrence of ``terms[t]`` (ascending; a rowid repeats once per occurrence).

    Rowids not in ``rowids`` (other users' rows) are dropped. Written for a
    million keys (30M occurrences): no per-occurrence term array, a lookup
    table rather than a binary search from rowid to doc.
    """
    rowids = np.asarray(rowids, dtype=np.int64)
    n = len(rowids)
    vocab = {t: i for i, t in enumerate(terms)}
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in instances], out=offsets[1:])
    occ = np.concatenate(instances) if len(instances) else np.zeros(0, dtype=np.int64)
    firsts = offsets[:-1][offsets[:-1] < offsets[1:]]  # where each non-empty term starts
    if len(occ) > 1:
        down = np.flatnonzero(occ[1:] < occ[:-1]) + 1
        if len(down) and not np.isin(down, firsts).all():  # fts5vocab gives them sorted; be safe if not
            term_of = np.repeat(np.arange(len(terms)), np.diff(offsets))
            occ = occ[np.lexsort((occ, term_of))]
    # One posting per run of equal rowids within a term; the run's length is the count.
    new = np.empty(len(occ), dtype=bool)
    if len(occ):
        np.not_equal(occ[1:], occ[:-1], out=new[1:])
        new[firsts] = True
    starts = np.flatnonzero(new)
    tfs = np.diff(starts, append=len(occ))
    first = occ[starts]
    run_at = np.searchsorted(starts, offsets)  # postings of term t: runs run_at[t]:run_at[t + 1]
    top = int(max(first.max(initial=0), rowids.max(initial=0)))
    if top <= 4 * (len(first) + n) + 1_000_000:
        pos = np.full(top + 1, -1, dtype=np.int64)
        pos[rowids] = np.arange(n)
        doc = pos[first]
    else:  # sparse rowids: binary search instead of a table as long as the largest
        at = np.minimum(np.searchsorted(rowids, first), max(n - 1, 0))
        doc = np.where((rowids[at] == first) if n else np.zeros(len(first), dtype=bool), at, -1)
    mine = doc >= 0
    kept = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(mine, out=kept[1:])
    doc, tfs = doc[mine], tfs[mine]
    body = np.bincount(doc, weights=tfs, minlength=n).astype(np.float64)
    seg = Segment(kept[run_at], doc.astype(np.int32), tfs.astype(_tf_dtype(tfs)))
    return LexicalIndex(rowids, body, other_len, vocab, (seg,))


def scores(index: LexicalIndex, lexemes: Sequence[str]) -> np.ndarray:
    """BM25 of every doc for an OR of the lexemes (0 where none occurs).

    Each lexeme is scored on its own, as FTS5 scores each phrase of an OR
    query: two query words with one stem count twice, there and here.
    """
    n = len(index.rowids)
    out = np.zeros(n, dtype=np.float64)
    if not n:
        return out
    lengths, avgdl = index.lengths, index.avgdl
    for lex in lexemes:
        docs, tfs = index.postings(lex)
        if len(docs):
            df = np.array([len(docs)], dtype=np.float64)
            out[docs] += bm25(tfs.astype(np.float64), idf(n, df), lengths[docs], avgdl)
    return out


def group_scores(index: LexicalIndex, lexemes: Sequence[str], groups: np.ndarray, n_groups: int) -> np.ndarray:
    """BM25 of groups of docs (sessions), each scored as one text of its docs' keys joined.

    ``groups[i]`` is doc ``i``'s group code. A group's text is its keys joined
    by spaces (as the store's session documents are), so its counts are sums
    of its docs' counts and it has one set of other-column tokens. Every code
    below ``n_groups`` must have a doc.
    """
    out = np.zeros(n_groups, dtype=np.float64)
    if not n_groups or not len(index.rowids):
        return out
    cached = index.derived.get("groups")
    if cached is not None and cached[0] is groups:
        glen = cached[1]
    else:
        glen = np.bincount(groups, weights=index.body_len, minlength=n_groups) + index.other_len
        index.derived["groups"] = (groups, glen)
    avgdl = float(glen.sum()) / n_groups
    for lex in lexemes:
        docs, tfs = index.postings(lex)
        if not len(docs):
            continue
        tf = np.bincount(groups[docs], weights=tfs, minlength=n_groups)
        hit = np.flatnonzero(tf)
        df = np.array([len(hit)], dtype=np.float64)
        out[hit] += bm25(tf[hit], idf(n_groups, df), glen[hit], avgdl)
    return out
