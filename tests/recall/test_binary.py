"""Binary codes, Hamming distance and the approximate dense path."""

from __future__ import annotations

import numpy as np
import pytest

from hippodex import Memory
from hippodex.config import RecallConfig
from hippodex.encode.quantize import sign_bits
from hippodex.recall.binary import BinaryIndex, approx_search, binary_index, hamming, hamming_numpy
from hippodex.recall.channels.dense import DenseChannel
from hippodex.recall.vector_index import exact_search


def _unit(rng: np.random.Generator, n: int, d: int = 64) -> np.ndarray:
    m = rng.normal(size=(n, d)).astype(np.float32) + 0.5  # a shared component, as real embeddings have
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_sign_bits_and_hamming_match_brute_force() -> None:
    rng = np.random.default_rng(1)
    m = rng.normal(size=(300, 72)).astype(np.float32)  # 72 bits: 9 bytes, not a multiple of 8
    centre = m.mean(axis=0)
    codes = sign_bits(m, centre)
    bits = m > centre
    assert np.array_equal(np.unpackbits(codes, axis=1, count=72).astype(bool), bits)
    brute = (bits != bits[7]).sum(axis=1)
    assert hamming_numpy(codes, codes[7]).tolist() == brute.tolist()
    codes64 = sign_bits(_unit(rng, 200, 128))
    brute64 = (np.unpackbits(codes64, axis=1) != np.unpackbits(codes64[3])).sum(axis=1)
    assert hamming_numpy(codes64, codes64[3]).tolist() == brute64.tolist()
    assert np.asarray(hamming(codes64, codes64[3])).astype(int).tolist() == brute64.tolist()


def test_approx_equals_exact_when_candidates_cover_everything() -> None:
    rng = np.random.default_rng(2)
    m = _unit(rng, 500)
    q = _unit(rng, 1)[0]
    index = BinaryIndex.build(m)
    rows, scores = approx_search(index, m, q, 10, candidates=500)
    exact_rows, exact_scores = exact_search(m, q, 10)
    assert rows.tolist() == exact_rows.tolist()
    assert np.allclose(scores, exact_scores)


def test_approx_finds_most_of_the_exact_top_with_a_deep_candidate_list() -> None:
    rng = np.random.default_rng(3)
    m = _unit(rng, 5000)
    index = BinaryIndex.build(m)
    overlap = []
    for q in m[:20] + 0.05 * _unit(rng, 20):
        exact_rows, _ = exact_search(m, q.astype(np.float32), 10)
        rows, _ = approx_search(index, m, q.astype(np.float32), 10, candidates=1000)
        overlap.append(len(set(rows.tolist()) & set(exact_rows.tolist())) / 10)
    assert np.mean(overlap) >= 0.9


def test_mask_is_respected_on_the_approximate_path() -> None:
    rng = np.random.default_rng(4)
    m = _unit(rng, 400)
    mask = np.zeros(400, dtype=bool)
    mask[::3] = True
    rows, _ = approx_search(BinaryIndex.build(m), m, m[1], 5, candidates=50, mask=mask)
    assert all(mask[r] for r in rows)
    few = np.zeros(400, dtype=bool)
    few[[5, 9]] = True
    rows, _ = approx_search(BinaryIndex.build(m), m, m[1], 5, candidates=50, mask=few)
    assert sorted(rows.tolist()) == [5, 9]


def test_index_extends_on_appends_and_matches_a_rebuild_with_the_same_centre() -> None:
    rng = np.random.default_rng(5)
    m = _unit(rng, 300)
    parent: dict[str, object] = {}
    first = binary_index(parent, m[:200], None)
    extended = binary_index({}, m, parent)
    assert np.array_equal(extended.centre, first.centre)
    assert np.array_equal(extended.codes, sign_bits(m, first.centre))
    # Far past the basis the centre is computed again.
    rebuilt = binary_index({}, np.vstack([m, m]), {"binary": first})
    assert rebuilt.basis == 600


@pytest.mark.parametrize("threshold", [0, 10, 10_000])
def test_threshold_switches_path_and_search_agrees(memory_factory: object, threshold: int) -> None:
    assert callable(memory_factory)
    m: Memory = memory_factory(RecallConfig(approx_threshold=threshold, approx_candidates=10))
    texts = [f"note {i} about {w}" for i, w in enumerate(["tea", "coffee", "Lisbon", "Porto", "cats"] * 6)]
    m.add(texts, user_id="u", session_id="s")
    channel = next(c for c in m._channels(["dense"]) if isinstance(c, DenseChannel))
    vs = m.store.vectors("u", channel.encoder_name)
    assert m.encoder is not None
    q = m.encoder.encode(["my cat"])[0]
    rows, _ = channel.nearest(vs, q, 5, None)
    exact, _ = channel.nearest(vs, q, 5, None, exact=True)
    used = "binary" in vs.derived
    assert used == (threshold == 10)
    if not used:
        assert rows.tolist() == exact.tolist()
    else:  # candidates (10 of 30) limit the approximate path; the best row must still be found
        assert rows[0] == exact[0]


def test_smallest_picks_the_c_smallest_distances() -> None:
    from hippodex.recall.binary import smallest

    rng = np.random.default_rng(7)
    for n, c in [(1000, 10), (1000, 999), (50, 50), (5000, 1234)]:
        d = rng.integers(0, 40, n)  # many ties, as Hamming distances have
        picked = smallest(d, c)
        assert len(picked) >= min(c, n) and len(set(picked.tolist())) == len(picked)
        cut = sorted(d.tolist())[min(c, n) - 1]
        assert set(picked.tolist()) == set(np.flatnonzero(d <= cut).tolist())  # the c smallest, with their ties
