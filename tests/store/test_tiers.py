"""Vector tiers: encodings round-trip, tier moves are one transaction, mixed tiers search together."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from hippodex import Memory, ValidationError
from hippodex.encode.base import Encoder
from hippodex.encode.quantize import TIER_BINARY, TIER_FLOAT32, TIER_INT8, code_bytes, decode, encode
from hippodex.recall.vector_index import exact_search

TEXTS = [
    "I moved to Lisbon in May",
    "My sister lives in Porto",
    "I like green tea in the morning",
    "The cat is called Miso",
    "We hiked in the Alps last summer",
    "My new job starts on Monday",
    "I am learning to play the cello",
    "Our flight to Tokyo was delayed",
]


def test_encodings_round_trip_with_small_error() -> None:
    rng = np.random.default_rng(0)
    m = rng.normal(size=(50, 384)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    f = decode(TIER_FLOAT32, encode(TIER_FLOAT32, m), 384)
    assert np.array_equal(f, m)
    blobs = encode(TIER_INT8, m)
    assert all(len(b) == code_bytes(TIER_INT8, 384) for b in blobs)
    i8 = decode(TIER_INT8, blobs, 384)
    assert np.abs(i8 - m).max() <= np.abs(m).max(axis=1).max() / 127 / 2 + 1e-6
    blobs = encode(TIER_BINARY, m)
    assert all(len(b) == code_bytes(TIER_BINARY, 384) == 48 for b in blobs)
    b = decode(TIER_BINARY, blobs, 384)
    assert np.array_equal(np.sign(b), np.where(m > 0, 1.0, -1.0))
    # Binary scores stay on the cosine scale (in expectation) and keep the order roughly.
    q = m[0]
    exact = m @ q
    approx = b @ q
    assert np.corrcoef(exact[1:], approx[1:])[0, 1] > 0.6
    assert abs(approx[0] - exact[0]) < 0.3
    # int8 -> binary gives the float's code wherever int8 did not round the component to zero.
    via_int8 = np.sign(decode(TIER_BINARY, encode(TIER_BINARY, i8), 384))
    direct = np.sign(decode(TIER_BINARY, encode(TIER_BINARY, m), 384))
    assert np.array_equal(via_int8[i8 != 0], direct[i8 != 0])


def test_tier_moves_keep_search_close_to_exact(db_path: Path, encoder: Encoder) -> None:
    with Memory(db_path, encoder=encoder) as m:
        m.add(TEXTS, user_id="ana", session_id="s")
        m.add(["unrelated note for bob"], user_id="bob", session_id="s")
        q = encoder.encode(["where does my sister live?"])[0]
        floats = m.store.vectors("ana", encoder.name).matrix.copy()
        exact_rows, exact_scores = exact_search(floats, q, 3)
        assert m.move_tier("int8", user_id="ana") == len(TEXTS)
        assert m.store.tier_counts("ana") == {"float32": 0, "int8": len(TEXTS), "binary": 0}
        vs = m.store.vectors("ana", encoder.name)
        rows, scores = exact_search(vs.matrix, q, 3)
        assert rows.tolist() == exact_rows.tolist()
        assert np.allclose(scores, exact_scores, atol=0.01)
        assert m.move_tier("binary", user_id="ana") == len(TEXTS)
        hits = m.search("where does my sister live?", user_id="ana", channels=["dense"], k=3)
        assert hits[0].episode.content == "My sister lives in Porto"
        assert m.store.tier_counts(None) == {"float32": 1, "int8": 0, "binary": len(TEXTS)}
        assert m.stats().vectors == len(TEXTS) + 1
        with pytest.raises(ValidationError, match="only move down"):
            m.store.set_tier("ana", encoder.name, None, TIER_FLOAT32)
        with pytest.raises(ValidationError, match="tier"):
            m.move_tier("int4", user_id="ana")
    # Reopened: the codes load from the file; bob's float rows are untouched.
    with Memory(db_path, encoder=encoder) as m:
        assert m.search("sister", user_id="ana", channels=["dense"], k=1)[0].episode.content == TEXTS[1]
        assert m.store.vectors("bob", encoder.name).matrix.dtype == np.float32


def test_mixed_tiers_and_appends_search_together(db_path: Path, encoder: Encoder) -> None:
    with Memory(db_path, encoder=encoder) as m:
        old = m.add(TEXTS[:4], user_id="ana", session_id="old", timestamp="2020-01-01")
        m.add(TEXTS[4:], user_id="ana", session_id="new", timestamp="2024-01-01")
        assert m.move_tier("binary", user_id="ana", until="2021-01-01") == 4
        assert m.store.tier_counts("ana") == {"float32": 4, "int8": 0, "binary": 4}
        m.add(["Tokyo again next year"], user_id="ana", session_id="new", timestamp="2024-02-01")
        vs = m.store.vectors("ana", encoder.name)
        assert len(vs.rowids) == 9 and np.all(np.diff(vs.rowids) > 0)
        hit = m.search("sister in Porto", user_id="ana", channels=["dense"], k=1)[0]
        assert hit.episode.id == old[1].id
        m.delete(old[1].id, user_id="ana")
        assert m.store.tier_counts("ana")["binary"] == 3
        assert m.erase(user_id="ana") == 8
        assert m.store.tier_counts("ana") == {"float32": 0, "int8": 0, "binary": 0}


def test_a_failed_tier_move_changes_nothing(db_path: Path, encoder: Encoder) -> None:
    with Memory(db_path, encoder=encoder) as m:
        m.add(TEXTS, user_id="ana", session_id="s")
        m.store._db.execute(
            "CREATE TRIGGER no_codes BEFORE INSERT ON vector_codes WHEN NEW.episode > 4 "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
        with pytest.raises(Exception, match="disk full"):
            m.move_tier("binary", user_id="ana")
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] == len(TEXTS)
    assert db.execute("SELECT count(*) FROM vector_codes").fetchone()[0] == 0


def test_reindex_brings_coded_rows_back_to_float(db_path: Path, encoder: Encoder) -> None:
    with Memory(db_path, encoder=encoder) as m:
        m.add(TEXTS, user_id="ana", session_id="s")
        m.move_tier("binary", user_id="ana")
        assert m.reindex() == len(TEXTS)
        assert m.store.tier_counts("ana") == {"float32": len(TEXTS), "int8": 0, "binary": 0}
