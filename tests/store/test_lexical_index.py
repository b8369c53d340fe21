"""The in-memory BM25 index: FTS5's and PostgreSQL's scores, filters, appends, deletions, the threshold."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from hippodex import Memory
from hippodex.config import RecallConfig
from hippodex.recall.channels.lexical import LexicalChannel, indexed, session_bm25
from hippodex.recall.query import Query
from hippodex.store.base import Filters, Store
from hippodex.store.lexical_index import (
    HasLexicalIndex,
    LexicalIndex,
    from_instances,
    from_tokens,
    group_scores,
    scores,
)
from hippodex.store.postgres_text import analyze, query_lexemes
from hippodex.store.sqlite import SQLiteStore

CORPUS = [
    ("s1", "user", "I went running by the river with Ana, running is my thing"),
    ("s1", "assistant", "Running by a river sounds lovely. How far did you run?"),
    ("s1", "user", "About 5 km. The café after was the best part"),
    ("s2", "user", "My sister moved to Lisbon in May 2023"),
    ("s2", "assistant", "Lisbon is lovely in May; does she like the cafe culture?"),
    ("s2", "user", "She loves it, the Café A Brasileira especially"),
    ("s3", "user", "I adopted a dog called Pepper"),
    ("s3", "user", "Pepper runs on the beach every morning, the dog is fast"),
    ("s3", "assistant", "Dogs love beaches. Is Pepper a greyhound?"),
    ("s4", "user", "naïve question: what is a 401k"),
]
QUERIES = [
    ["running"],
    ["run", "running", "runs"],  # one stem, three phrases: counted three times, as FTS5 does
    ["cafe"],
    ["café", "lisbon"],
    ["dog", "pepper", "beach"],
    ["naive", "401k"],
    ["lovely", "may", "sister"],
    ["unknownword"],
]
T0 = datetime(2023, 5, 1, tzinfo=UTC)
INDEX_ALWAYS = RecallConfig(lexical_index_threshold=0)
FTS_ALWAYS = RecallConfig(lexical_index_threshold=10**9)


def _fill(m: Memory, user: str = "u", corpus: list[tuple[str, str, str]] = CORPUS) -> None:
    for i, (session, role, text) in enumerate(corpus):
        m.add({"role": role, "content": text}, user_id=user, session_id=session, timestamp=T0.replace(day=1 + i))


def _assert_same_as_fts(store: Store, user: str = "u") -> None:
    """The index's scores are the store's own BM25 (FTS5's, or the PostgreSQL store's)."""
    assert isinstance(store, HasLexicalIndex)
    index = store.lexical_index(user)
    assert index.rowids.tolist() == store.layout(user).rowids.tolist()
    for terms in QUERIES:
        fts = store.lexical(user, terms, Filters(), 2**62)
        mine = scores(index, query_lexemes(terms))
        hit = np.flatnonzero(mine > 0)
        ranked = hit[np.argsort(-mine[hit], kind="stable")]
        assert [int(r) for r in index.rowids[ranked]] == [r for r, _ in fts], terms
        assert mine[ranked] == pytest.approx([s for _, s in fts], rel=1e-12, abs=1e-12)
    layout = store.layout(user)
    for terms in QUERIES:
        want = store.session_lexical(user, terms, Filters())
        got = group_scores(index, query_lexemes(terms), layout.session, len(layout.sessions))
        assert {s: float(v) for s, v in zip(layout.sessions, got, strict=True) if v > 0} == pytest.approx(want)


def _fill_in_two_writes(m: Memory) -> LexicalIndex:
    """Fill in two writes, reading the index after each: the second is appended, not rebuilt."""
    store = m.store
    assert isinstance(store, HasLexicalIndex)
    _fill(m, corpus=CORPUS[:4])
    first = store.lexical_index("u")
    _fill(m, corpus=CORPUS[4:])
    extended = store.lexical_index("u")
    assert len(extended.segments) == 2 and extended.vocab is first.vocab
    _assert_same_as_fts(m.store)
    return extended


def _assert_a_delete_rebuilds(m: Memory) -> None:
    store = m.store
    assert isinstance(store, HasLexicalIndex)
    gone = m.search("Pepper greyhound", user_id="u", k=1)[0].episode
    m.delete(gone.id, user_id="u")
    rebuilt = store.lexical_index("u")
    assert len(rebuilt.segments) == 1 and len(rebuilt.rowids) == len(CORPUS) - 1
    _assert_same_as_fts(m.store)
    assert store.lexical_index("u") is rebuilt  # cached until the next write


def test_scores_equal_fts5_on_a_one_user_file(db_path: Path) -> None:
    with Memory(db_path, encoder=None) as m:
        _fill(m)
        assert isinstance(m.store, SQLiteStore)
        _assert_same_as_fts(m.store)


def test_appends_extend_and_deletions_rebuild(db_path: Path) -> None:
    with Memory(db_path, encoder=None) as m:
        assert isinstance(m.store, SQLiteStore)
        _fill_in_two_writes(m)
        _assert_a_delete_rebuilds(m)


def test_postgres_index_scores_as_the_store_and_follows_writes(pg_url: str) -> None:
    """On PostgreSQL the index is exact at any size (both count the user's own rows), so recall always uses it."""
    with Memory(pg_url, encoder=None) as m:
        store = m.store
        assert isinstance(store, HasLexicalIndex) and store.lexical_index_exact
        extended = _fill_in_two_writes(m)
        assert indexed(store, "u", FTS_ALWAYS) is extended  # used below any threshold
        _fill(m, "bo", CORPUS[:3])  # another user's rows change neither the scores nor the postings
        _assert_same_as_fts(store, "u")
        _assert_same_as_fts(store, "bo")
        _assert_a_delete_rebuilds(m)
        store.erase("bo")
        assert len(store.lexical_index("bo").rowids) == 0


def test_many_appends_merge_segments_and_stay_exact(db_path: Path) -> None:
    with Memory(db_path, encoder=None) as m:
        store = m.store
        assert isinstance(store, SQLiteStore)
        for i, (session, role, text) in enumerate(CORPUS * 2):
            m.add({"role": role, "content": text}, user_id="u", session_id=session, timestamp=T0.replace(day=1 + i))
            store.lexical_index("u")
        assert len(store.lexical_index("u").segments) <= 8
        _assert_same_as_fts(store)


def test_other_users_rows_stay_out(db_path: Path) -> None:
    with Memory(db_path, encoder=None) as m:
        _fill(m, "ana")
        _fill(m, "bo", CORPUS[:3])
        store = m.store
        assert isinstance(store, SQLiteStore)
        bo = store.lexical_index("bo")
        assert bo.rowids.tolist() == store.layout("bo").rowids.tolist()
        assert np.count_nonzero(scores(bo, ["pepper", "lisbon"])) == 0
        assert np.count_nonzero(scores(bo, ["river"])) == 2
        store.erase("bo")
        assert len(store.lexical_index("bo").rowids) == 0


def _search(m: Memory, query: str, **kw: object) -> list[tuple[str, float]]:
    return [(h.episode.id, round(h.score, 9)) for h in m.search(query, user_id="u", k=10, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "filters",
    [{}, {"role": "user"}, {"session_id": ["s1", "s3"]}, {"since": "2023-05-04T00:00:00Z"}],
)
def test_search_is_the_same_on_either_side_of_the_threshold(tmp_path: Path, filters: dict[str, object]) -> None:
    """Every stage (lexical channel, session BM25, filters) gives what FTS5 gives."""
    path = tmp_path / "m.db"
    with Memory(path, encoder=None, config=FTS_ALWAYS) as m:
        _fill(m)
        expected = {q: _search(m, q, **filters) for q in ("running by the river", "Pepper dog", "café in Lisbon")}
    with Memory(path, encoder=None, config=INDEX_ALWAYS) as m:
        assert isinstance(m.store, SQLiteStore)
        assert indexed(m.store, "u", INDEX_ALWAYS) is not None
        assert indexed(m.store, "u", FTS_ALWAYS) is None
        for q, want in expected.items():
            assert _search(m, q, **filters) == want, (q, filters)
            assert want


def test_channel_switches_at_the_threshold(db_path: Path) -> None:
    config = RecallConfig(lexical_index_threshold=len(CORPUS))
    with Memory(db_path, encoder=None, config=config) as m:
        _fill(m, corpus=CORPUS[:-1])
        q = Query("dog pepper", "u", now=T0)
        channel = LexicalChannel(m.store, config)
        below = channel.search(q, 5)
        assert channel._dense is not None and channel._dense[1] is None  # FTS5 served it
        assert channel._last is not None
        _fill(m, corpus=CORPUS[-1:])
        q = Query("dog pepper", "u", now=T0)
        channel = LexicalChannel(m.store, config)
        above = channel.search(q, 5)
        assert channel._dense is not None and channel._dense[1] is not None  # the index served it
        assert channel._last is None
        fts = m.store.lexical("u", q.terms, Filters(), 5)  # the same ranking FTS5 gives at this size
        assert [h.rowid for h in above] == [r for r, _ in fts] == [h.rowid for h in below]
        assert [h.score for h in above] == pytest.approx([s for _, s in fts])
        rescored = channel.rescore(q, [h.rowid for h in above] + [10**6])
        assert rescored == pytest.approx({h.rowid: h.score for h in above})


def test_session_bm25_honours_the_session_filter(db_path: Path) -> None:
    with Memory(db_path, encoder=None) as m:
        _fill(m)
        layout = m.store.layout("u")
        for config in (INDEX_ALWAYS, FTS_ALWAYS):
            q = Query("lovely dog", "u", now=T0, filters=Filters(session_ids=("s3",)))
            got = dict(zip(layout.sessions, session_bm25(m.store, q, layout, config).tolist(), strict=True))
            assert got["s3"] > 0 and got["s1"] == got["s2"] == 0.0


def test_instances_and_token_lists_build_the_same_index() -> None:
    texts = ["Ana runs, Ana ran", "the run of runs", "Lisbon"]
    tokens = analyze(texts)
    rowids = np.array([3, 5, 8])
    by_tokens = from_tokens(rowids, tokens, other_len=1.0)
    instances: dict[str, list[int]] = {}
    for rowid, toks in zip([8, 5, 3], tokens[::-1], strict=True):  # unsorted on purpose
        for t in toks:
            instances.setdefault(t, []).append(rowid)
    instances["other"] = [99]  # another user's row
    by_instances = from_instances(rowids, list(instances), [np.array(v) for v in instances.values()], 1.0)
    assert by_instances.body_len.tolist() == by_tokens.body_len.tolist() == [4.0, 4.0, 1.0]
    for q in (["ana"], ["run"], ["lisbon", "ana"], ["other"]):
        assert scores(by_instances, q).tolist() == pytest.approx(scores(by_tokens, q).tolist())
    assert scores(by_tokens, ["run"])[1] > scores(by_tokens, ["run"])[0] > 0  # tf 3 of 4 against 2 of 4


def test_negative_threshold_is_refused() -> None:
    from hippodex import ConfigError

    with pytest.raises(ConfigError, match="lexical_index_threshold"):
        RecallConfig(lexical_index_threshold=-1)
