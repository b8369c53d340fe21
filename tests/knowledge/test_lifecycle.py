"""Sleep (consolidate), entities, graph recall, and forgetting that leaves no residue."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.knowledge.scripted import Scripted, claim

from hippodex import Memory
from hippodex.encode.base import Encoder
from hippodex.encode.cache import EmbeddingCache
from hippodex.store.base import KNOWLEDGE_TABLES
from hippodex.store.open import is_postgres_url

SCRIPT = {
    "I live in Paris with my dog Rex": [claim("Ana", "lives_in", "Paris"), claim("Ana", "has", "a dog named Rex")],
    "The park is where Rex plays": [],
    "We moved to Lisbon": [claim("Ana", "lives_in", "Lisbon")],
}
KNOWLEDGE = KNOWLEDGE_TABLES


def _rows(target: str | Path, user: str) -> dict[str, int]:
    """Rows each knowledge table holds for ``user``, read with the backend's own driver."""
    if is_postgres_url(str(target)):
        import psycopg

        with psycopg.connect(str(target)) as conn:
            return {t: _count(conn, f"SELECT count(*) FROM {t} WHERE user_id = %s", user) for t in KNOWLEDGE}
    with sqlite3.connect(target) as db:
        return {t: db.execute(f"SELECT count(*) FROM {t} WHERE user_id = ?", (user,)).fetchone()[0] for t in KNOWLEDGE}


def _count(conn: Any, sql: str, *args: Any) -> int:
    row = conn.execute(sql, args).fetchone()
    return int(row[0])


def _fill(m: Memory, user: str = "ana") -> list[str]:
    ids = []
    for i, text in enumerate(SCRIPT):
        msg = {"role": "user", "content": text, "speaker": "Ana"}
        ids += [e.id for e in m.add([msg], user_id=user, session_id=f"s{i // 2}", timestamp=f"202{i}-01-01")]
    return ids


def test_consolidate_learns_what_add_did_not_and_is_idempotent(db_target: str) -> None:
    with Memory(db_target, encoder=None, facts=Scripted(SCRIPT), learn_on_add=False) as m:
        _fill(m)
        assert m.facts("ana") == []
        first = m.consolidate()
        assert first.learned.episodes == 3 and first.learned.added == 3 and first.learned.superseded == 1
        assert first.summaries == 2 and m.store.summary("ana", "s0") is not None
        assert {f.object for f in m.facts("ana")} == {"Lisbon", "a dog named Rex"}
        before = _rows(db_target, "ana")
        again = m.consolidate(user_id="ana").to_dict()
        assert again["episodes_learned"] == 0 and again["facts_merged"] == 0 and again["summaries"] == 0
        assert _rows(db_target, "ana") == before


def test_consolidate_merges_duplicates_left_by_racing_writers(db_target: str) -> None:
    with Memory(db_target, encoder=None, facts=Scripted(SCRIPT), learn_on_add=True) as m:
        _fill(m)
        [lisbon] = [f for f in m.facts("ana") if f.object == "Lisbon"]
        with m.store.learning("ana") as tx:  # what two processes learning at once could leave behind
            tx.insert_fact(claim_fact := type(lisbon)(**{**lisbon.__dict__, "id": "f" * 32, "sources": ("x",)}))
        assert len([f for f in m.facts("ana") if f.object == "Lisbon"]) == 2
        report = m.consolidate()
        assert report.merged == 1
        [kept] = [f for f in m.facts("ana") if f.object == "Lisbon"]
        assert kept.seen == 2 and set(kept.sources) == {*lisbon.sources, "x"}
        assert m.history(claim_fact.id, user_id="ana")  # the merged one is still readable
        assert [e[0] for e in m.store.fact_events(claim_fact.id)] == ["merged"]


def test_entities_are_counted_and_graph_recall_walks_through_them(db_target: str) -> None:
    with Memory(db_target, encoder=None, facts=Scripted(SCRIPT), learn_on_add=True) as m:
        ids = _fill(m)
        names = {e.name: e.mentions for e in m.entities("ana")}
        assert names.get("Rex") == 2 and names.get("Paris") == 1
        hits = m.search("What is Rex like?", user_id="ana", channels=["graph"])
        assert {h.episode.id for h in hits} == {ids[0], ids[1]}
        assert all(h.channels["graph"].score > 0 for h in hits)
        assert m.search("nothing named here", user_id="ana", channels=["graph"]) == []
        assert m.search("Rex", user_id="ana", channels=["graph"], session_id="s1") == [
            h for h in m.search("Rex", user_id="ana", channels=["graph"]) if h.episode.session_id == "s1"
        ]


def test_my_sister_in_a_question_walks_to_the_sisters_name(db_target: str) -> None:
    """The user's relation fact ("sister: Joana") makes "my sister" name Joana in the graph;
    a kin word with two names names neither."""
    with Memory(db_target, encoder=None) as m:
        [_, beach, _, _] = m.add(
            [
                "My sister Joana is a nurse in Lisbon.",
                "Joana and I went to the beach last weekend.",
                "My brother Tom plays football. My brother Rui cooks.",
                "Tom and I watched the match.",
            ],
            user_id="ana",
            session_id="s1",
        )
        walked = m.search("what did I say about my sister?", user_id="ana", channels=["graph"])
        assert beach.id in {h.episode.id for h in walked}
        assert m.search("what does my brother do?", user_id="ana", channels=["graph"]) == []
        assert m.search("what did I say about my sister?", user_id="bo", channels=["graph"]) == []


def test_delete_removes_derived_knowledge_and_restores_what_it_superseded(db_target: str) -> None:
    with Memory(db_target, encoder=None, facts=Scripted(SCRIPT), learn_on_add=True) as m:
        ids = _fill(m)
        m.consolidate()
        m.delete(ids[2], user_id="ana")  # "We moved to Lisbon"
        [paris] = [f for f in m.facts("ana") if f.predicate == "lives_in"]
        assert paris.object == "Paris" and paris.current
        assert all(ids[2] not in f.sources for f in m.facts("ana", current_only=False))
        assert "Lisbon" not in {e.name for e in m.entities("ana")}
        m.delete(ids[1], user_id="ana")  # Rex is still mentioned by the first turn
        assert {e.name: e.mentions for e in m.entities("ana")}["Rex"] == 1
        assert m.store.summary("ana", "s0") is None  # it quoted a deleted turn


def test_forgetting_the_middle_of_a_chain_hands_what_it_replaced_to_its_successor(db_target: str) -> None:
    with Memory(db_target, encoder=None) as m:
        m.add("I live in Porto.", user_id="u", timestamp="2023-01-01")
        (lisbon,) = m.add("I live in Lisbon.", user_id="u", timestamp="2023-03-01")
        m.add("I live in Amsterdam.", user_id="u", timestamp="2024-01-01")
        m.delete(lisbon.id, user_id="u")
        m.consolidate("u")
        [now] = [f for f in m.facts("u") if f.predicate == "lives_in"]
        assert now.object == "Amsterdam"  # Porto is not current again: Amsterdam came after it
        assert [f.object for f in m.history(now.id)] == ["Porto", "Amsterdam"]
        [porto] = [f for f in m.facts("u", current_only=False) if f.object == "Porto"]
        assert porto.superseded_by == now.id and porto.valid_to == now.valid_from
        events = m.store.fact_events(porto.id)
        assert events[-1][0] == "superseded" and events[-1][3] == now.id  # its trail names Amsterdam
        assert {e[2] for e in events} <= {ep.id for ep in m.list(user_id="u").items}  # no forgotten episode


def test_forgetting_one_statement_of_a_fact_counts_it_once_less(db_target: str) -> None:
    with Memory(db_target, encoder=None) as m:
        m.add("I live in Porto.", user_id="u", timestamp="2023-01-01")
        (again,) = m.add("I live in Porto!", user_id="u", timestamp="2023-02-01")
        [fact] = m.facts("u")
        assert (fact.seen, len(fact.sources)) == (2, 2)
        m.delete(again.id, user_id="u")
        [fact] = m.facts("u")
        assert (fact.seen, len(fact.sources)) == (1, 1)


def test_erase_leaves_no_residue_in_the_sqlite_file(tmp_path: Path, encoder: Encoder) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    with Memory(tmp_path / "m.db", encoder=encoder, facts=Scripted(SCRIPT), cache=cache, learn_on_add=True) as m:
        _fill(m, "ana")
        _fill(m, "bo")
        m.add("only Bo says this", user_id="bo")
        m.consolidate()
        bo_before = _rows(tmp_path / "m.db", "bo")
        m.erase(user_id="ana")
        assert _rows(tmp_path / "m.db", "ana") == dict.fromkeys(KNOWLEDGE, 0)
        assert _rows(tmp_path / "m.db", "bo") == bo_before
        with sqlite3.connect(tmp_path / "m.db") as db:
            for table in ("episodes", "vectors", "vector_codes", "words", "sessions", "session_keys", "scope_versions"):
                assert db.execute(f"SELECT count(*) FROM {table} WHERE user_id = 'ana'").fetchone()[0] == 0
            dump = "\n".join(db.iterdump())
        assert "Paris" in dump  # Bo said the same words, so they stay for Bo
        m.erase(user_id="bo")
        with sqlite3.connect(tmp_path / "m.db") as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            dump = "\n".join(db.iterdump())
        assert "Paris" not in dump and "Rex" not in dump and "only Bo" not in dump
    assert cache.size() == 0  # no cached embedding of an erased text outlives it


def _pg_dump(url: str) -> str:
    """Every row of every table in the database, as text (what a reader of the tables would see)."""
    import psycopg

    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
            )
        ]
        assert set(KNOWLEDGE) <= set(tables)
        return "\n".join(str(r[0]) for t in tables for r in conn.execute(f"SELECT t::text FROM {t} t"))


def test_erase_leaves_no_residue_in_the_postgres_tables(pg_url: str, tmp_path: Path, encoder: Encoder) -> None:
    import psycopg

    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    with Memory(pg_url, encoder=encoder, facts=Scripted(SCRIPT), cache=cache, learn_on_add=True) as m:
        _fill(m, "ana")
        _fill(m, "bo")
        m.add("only Bo says this", user_id="bo")
        m.consolidate()
        bo_before = _rows(pg_url, "bo")
        assert all(bo_before[t] for t in ("facts", "mentions", "learn_state", "session_summaries"))
        m.erase(user_id="ana")
        assert _rows(pg_url, "ana") == dict.fromkeys(KNOWLEDGE, 0)
        assert _rows(pg_url, "bo") == bo_before
        with psycopg.connect(pg_url) as conn:
            for table in ("episodes", "vectors", "words", "sessions", "scopes"):
                assert _count(conn, f"SELECT count(*) FROM {table} WHERE user_id = 'ana'") == 0
        assert "Paris" in _pg_dump(pg_url)  # Bo said the same words, so they stay for Bo
        m.erase(user_id="bo")
        dump = _pg_dump(pg_url).casefold()
        assert "paris" not in dump and "rex" not in dump and "only bo" not in dump and "lisbon" not in dump
    assert cache.size() == 0  # no cached embedding of an erased text outlives it


def test_an_episode_added_after_deleting_the_last_one_is_still_learned(db_target: str, backend: str) -> None:
    # SQLite reuses the highest rowid after it is deleted, so the learning cursor
    # must be rewound; PostgreSQL's sequence never reuses one. Either way the new
    # episode is learned.
    script = {f"I live in {c}": [claim("Ana", "lives_in", c)] for c in ("Rome", "Oslo")}
    with Memory(db_target, encoder=None, facts=Scripted(script), learn_on_add=True) as m:
        [first] = m.add("I live in Rome", user_id="ana", timestamp="2020-01-01")
        [(old_rowid, _)] = m.store.episodes_after("ana", 0, 10)
        m.delete(first.id, user_id="ana")
        m.add("I live in Oslo", user_id="ana", timestamp="2021-01-01")
        [(new_rowid, _)] = m.store.episodes_after("ana", 0, 10)
        assert (new_rowid == old_rowid) if backend == "sqlite" else (new_rowid > old_rowid)
        assert [f.object for f in m.facts("ana")] == ["Oslo"]
        assert m.store.learn_cursor("ana") == new_rowid


def test_deleting_every_episode_leaves_no_derived_row(db_target: str) -> None:
    with Memory(db_target, encoder=None, facts=Scripted(SCRIPT), learn_on_add=True) as m:
        ids = _fill(m)
        m.consolidate()
        assert m.store.summary("ana", "s0") is not None and m.entities("ana")
        for eid in ids:
            m.delete(eid, user_id="ana")
        assert m.facts("ana", current_only=False) == [] and m.entities("ana") == []
        assert m.stats(user_id="ana").episodes == 0
    assert {t: n for t, n in _rows(db_target, "ana").items() if n} == {"learn_state": 1}  # only the cursor


def test_consolidate_moves_cold_vectors_down_a_tier(tmp_path: Path, encoder: Encoder) -> None:
    with Memory(tmp_path / "m.db", encoder=encoder) as m:
        m.add("an old memory of the lake house", user_id="ana", timestamp="2020-01-01")
        m.add("what I did this morning", user_id="ana")
        report = m.consolidate(user_id="ana", cold_after_days=365, cold_tier="binary")
        assert report.retiered == 1 and report.to_dict()["vectors_retiered"] == 1
        assert m.store.tier_counts("ana") == {"float32": 1, "int8": 0, "binary": 1}
        assert m.consolidate(user_id="ana", cold_after_days=365, cold_tier="binary").retiered == 0  # idempotent
        assert m.search("lake house", user_id="ana")[0].episode.content == "an old memory of the lake house"


def test_an_episode_deleted_while_it_is_read_leaves_nothing_behind(db_target: str) -> None:
    # Extraction runs outside the write transaction (it may call an LLM); the
    # episode can be deleted in between, and then nothing may be derived from it.
    class DeletesWhileReading(Scripted):
        memory: Memory

        def extract(self, content: str, **kw: Any) -> list[Any]:
            victim = next(e for e in self.memory.list(user_id="ana").items if e.content == content)
            self.memory.store.delete("ana", victim.id)
            return super().extract(content, **kw)

    extractor = DeletesWhileReading(SCRIPT)
    with Memory(db_target, encoder=None, facts=extractor, learn_on_add=False) as m:
        extractor.memory = m
        m.add("I live in Paris with my dog Rex", user_id="ana", timestamp="2021-01-01")
        report = m.consolidate(user_id="ana")
        assert report.learned.episodes == 0 and m.facts("ana", current_only=False) == [] and m.entities("ana") == []


def test_a_batch_learns_what_the_same_messages_one_by_one_learn(db_target: str) -> None:
    """Learning keeps each slot's facts for the rest of its transaction (so a batch stating many
    values of one slot is not quadratic); what it learns must not depend on the batching."""
    texts = [
        "I live in Porto",
        "I like green tea",
        "I like black coffee",
        "I love green tea",  # reinforces a fact added earlier in the batch
        "We moved to Lisbon last month",  # supersedes one
        "I like jazz",
        "I live in Lisbon",
        "I don't like black coffee anymore",  # closes one by negation
    ]
    messages = [{"content": t, "timestamp": f"2023-0{i + 1}-01"} for i, t in enumerate(texts)]
    with Memory(db_target, encoder=None) as m:
        m.add(messages, user_id="batch")
        for message in messages:
            m.add(message, user_id="single")

        def learned(user: str) -> list[tuple[Any, ...]]:
            facts = m.facts(user, current_only=False)
            objects = {f.id: f.object for f in facts}
            return sorted(
                (f.predicate, f.object, f.negated, f.seen, f.valid_from, f.valid_to, objects.get(f.superseded_by))
                for f in facts
            )

        batch = learned("batch")
        assert batch == learned("single")
        assert ("likes", "green tea", False, 2) in [row[:4] for row in batch]
        assert sum(1 for row in batch if row[6] is not None) == 2  # Porto by Lisbon, coffee by its negation
