"""hippodex.bench.datasets against the dev files in ../shared/data (skipped if absent)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from hippodex.bench.datasets import (
    CATEGORY_NAMES,
    BenchCase,
    clean_locomo_evidence,
    iter_longmemeval,
    load_locomo,
    locomo_session_of,
    official_session_id,
    parse_locomo_datetime,
    parse_longmemeval_datetime,
)
from hippodex.bench.metrics import session_metrics_from_turns

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
LOCOMO = DATA / "locomo" / "locomo_dev.json"
LME_S = DATA / "longmemeval" / "longmemeval_s_dev.json.gz"
LME_ORACLE = DATA / "longmemeval" / "longmemeval_oracle_dev.json.gz"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"benchmark dev file not found: {path} (expected in ../shared/data)")
    return path


@pytest.fixture(scope="module")
def locomo() -> dict[str, BenchCase]:
    return {c.id: c for c in load_locomo(_need(LOCOMO))}


@pytest.fixture(scope="module")
def lme() -> dict[str, BenchCase]:
    return {c.id: c for c in iter_longmemeval(_need(LME_S))}


# ------------------------------------------------------------------------- LoCoMo


def test_locomo_counts(locomo: dict[str, BenchCase]) -> None:
    cases = list(locomo.values())
    assert list(locomo) == ["conv-26", "conv-30", "conv-41", "conv-42", "conv-43"]
    assert sum(len(c.sessions) for c in cases) == 128
    turns = [t for c in cases for s in c.sessions for t in s.turns]
    assert len(turns) == 2760
    assert sum("[shares " in t.content for t in turns) == 602
    assert all(t.is_key and t.role == "user" for t in turns)
    questions = [q for c in cases for q in c.questions]
    assert len(questions) == 999
    assert Counter(q.category for q in questions) == {
        "1": 142,
        "2": 156,
        "3": 46,
        "4": 418,
        "5": 237,
    }
    assert sum(bool(q.gold_turns) for q in questions) == 997
    assert not any(q.abstention or q.asked_at for q in questions)
    assert set(CATEGORY_NAMES) == {"1", "2", "3", "4", "5"}


def test_locomo_dangling_session_dates_ignored(locomo: dict[str, BenchCase]) -> None:
    # conv-26 has session_20..35_date_time keys but turns only for sessions 1-19
    assert [s.id for s in locomo["conv-26"].sessions] == [f"S{n}" for n in range(1, 20)]


def test_locomo_evidence_quirks(locomo: dict[str, BenchCase]) -> None:
    q26 = locomo["conv-26"].questions
    # "D8:6; D9:17" -> two ids
    assert q26[37].gold_turns == {"D8:6", "D9:17"}
    assert q26[37].gold_sessions == {"S8", "S9"}
    # the two empty-evidence QA (category 3)
    assert [j for j, q in enumerate(q26) if not q.gold_turns] == [30, 46]
    # "D:11:26" -> "D11:26"
    assert "D11:26" in locomo["conv-43"].questions[18].gold_turns
    assert len(locomo["conv-43"].questions[18].gold_turns) == 7
    # "D10:19" (no such turn) and "D" dropped and counted
    q42 = locomo["conv-42"].questions
    assert "D10:19" not in q42[58].gold_turns and len(q42[58].gold_turns) == 6
    assert q42[88].gold_turns == {"D1:18", "D1:20"}
    assert {c.id: c.dropped_evidence for c in locomo.values()} == {
        "conv-26": 0,
        "conv-30": 0,
        "conv-41": 0,
        "conv-42": 2,
        "conv-43": 0,
    }


def test_clean_locomo_evidence_unit() -> None:
    known = {"D8:6", "D9:17", "D11:26"}
    raw = ["D8:6; D9:17", "D:11:26", "D", "D10:19", "D8:6"]
    # split -> 2 ids, normalise -> 1, drop "D" and "D10:19", repeat of D8:6 kept once
    assert clean_locomo_evidence(raw, known) == (["D8:6", "D9:17", "D11:26"], 2)
    assert locomo_session_of("D11:26") == "S11"


def test_locomo_turns_and_dates(locomo: dict[str, BenchCase]) -> None:
    s1 = locomo["conv-26"].sessions[0]
    # "1:56 pm on 8 May, 2023"
    assert s1.started_at == datetime(2023, 5, 8, 13, 56)
    assert all(t.occurred_at == s1.started_at for t in s1.turns)
    assert [t.seq for t in s1.turns] == list(range(len(s1.turns)))
    first, image = s1.turns[0], s1.turns[4]
    assert (first.id, first.session_id, first.speaker) == ("D1:1", "S1", "Caroline")
    assert image.id == "D1:5"
    assert image.content.endswith(" [shares a photo of a dog walking past a wall with a painting of a woman]")
    assert parse_locomo_datetime("12:06 am on 11 November, 2022") == datetime(2022, 11, 11, 0, 6)


def test_locomo_answers(locomo: dict[str, BenchCase]) -> None:
    questions = [q for c in locomo.values() for q in c.questions]
    # 6 integer answers become strings; adversarial items without "answer" get ""
    assert all(isinstance(q.answer, str) for q in questions)
    assert sum(q.answer == "" for q in questions) == 235
    assert all(q.category == "5" for q in questions if q.answer == "")


# -------------------------------------------------------------------- LongMemEval


def test_longmemeval_counts(lme: dict[str, BenchCase]) -> None:
    cases = list(lme.values())
    assert len(cases) == 249
    assert all(len(c.questions) == 1 for c in cases)
    assert sum(len(c.sessions) for c in cases) == 11914
    turns = [t for c in cases for s in c.sessions for t in s.turns]
    assert len(turns) == 123461
    assert sum(t.is_key for t in turns) == 61252
    assert all(t.is_key == (t.role == "user") for t in turns)
    questions = [c.questions[0] for c in cases]
    assert sum(q.abstention for q in questions) == 15
    assert all(q.abstention == q.id.endswith("_abs") for q in questions)
    assert "gpt4_7a0daae1" not in lme  # missing from the S data (README)


def test_longmemeval_empty_gold(lme: dict[str, BenchCase]) -> None:
    questions = [c.questions[0] for c in lme.values()]
    empty_turn = [q for q in questions if not q.gold_turns]
    empty_session = [q for q in questions if not q.gold_sessions]
    assert len(empty_turn) == 36 and len(empty_session) == 36
    # 11 _abs + 25 single-session-assistant (evidence on assistant turns only)
    assert sum(q.abstention for q in empty_turn) == 11
    assert Counter(q.category for q in empty_turn if not q.abstention) == {"single-session-assistant": 25}
    for q in questions:
        assert {official_session_id(t) for t in q.gold_turns} == q.gold_sessions
        assert all("answer" in s for s in q.gold_sessions)


def test_longmemeval_repeated_filler_sessions(lme: dict[str, BenchCase]) -> None:
    # data quirk: 9 questions list one filler session twice (same content, two dates)
    repeated = [c.id for c in lme.values() if len({s.id for s in c.sessions}) != len(c.sessions)]
    assert len(repeated) == 9


def test_longmemeval_turn_ids_by_hand(lme: dict[str, BenchCase]) -> None:
    # 00ca467f: three evidence sessions of 12 turns (u/a alternating). has_answer true
    # only on turn 1 of answer_39900a0a_3 and of answer_39900a0a_1; none in _2.
    case = lme["00ca467f"]
    q = case.questions[0]
    assert (q.category, q.answer) == ("multi-session", "2")  # int answer -> "2"
    assert q.asked_at == datetime(2023, 3, 27, 23, 35)
    assert q.gold_turns == {"answer_39900a0a_3_1", "answer_39900a0a_1_1"}
    # session-level noans rule: answer_39900a0a_2 has no gold user turn -> not gold
    assert q.gold_sessions == {"answer_39900a0a_3", "answer_39900a0a_1"}
    sessions = {s.id: s for s in case.sessions}
    s3 = sessions["answer_39900a0a_3"]
    assert s3.started_at == datetime(2023, 3, 27, 0, 55)
    assert [t.id for t in s3.turns[:3]] == [
        "answer_39900a0a_3_1",  # user, has_answer true: gold
        "noans_39900a0a_3_2",  # assistant: never an official key
        "noans_39900a0a_3_3",  # user, has_answer false
    ]
    assert [t.is_key for t in s3.turns[:3]] == [True, False, True]
    assert s3.turns[2].session_id == "answer_39900a0a_3"  # session id itself unchanged
    assert official_session_id("noans_39900a0a_3_3") == "noans_39900a0a_3"
    assert all(t.id.startswith("noans_39900a0a_2_") for t in sessions["answer_39900a0a_2"].turns)
    # a filler session keeps plain ids "<session_id>_<t>", t 1-based over both roles
    filler = next(s for s in case.sessions if "answer" not in s.id)
    assert [t.id for t in filler.turns] == [f"{filler.id}_{i}" for i in range(1, len(filler.turns) + 1)]


def test_longmemeval_abstention(lme: dict[str, BenchCase]) -> None:
    q = lme["15745da0_abs"].questions[0]
    assert q.abstention and q.category == "single-session-user"
    assert not q.gold_turns and not q.gold_sessions
    evidence = next(s for s in lme["15745da0_abs"].sessions if "answer" in s.id)
    assert evidence.id == "answer_586de428_abs"
    assert all(t.id.startswith("noans_586de428_abs_") for t in evidence.turns)
    # an _abs question whose related evidence does mark a user turn
    q2 = lme["09ba9854_abs"].questions[0]
    assert q2.abstention and len(q2.gold_turns) == 1
    assert next(iter(q2.gold_turns)).endswith("_7")


def test_longmemeval_oracle_ranking_scores_perfectly(lme: dict[str, BenchCase]) -> None:
    case = lme["00ca467f"]
    q = case.questions[0]
    keys = [t.id for s in case.sessions for t in s.turns if t.is_key]
    ranked = sorted(keys, key=lambda t: t not in q.gold_turns)  # gold turns first
    m = session_metrics_from_turns(ranked, q.gold_turns, 5, official_session_id)
    assert m == {"recall_any": 1.0, "recall_all": 1.0, "ndcg_any": pytest.approx(1.0)}


def test_longmemeval_oracle_file_and_limit() -> None:
    cases = list(iter_longmemeval(_need(LME_ORACLE)))
    assert len(cases) == 250
    assert sum(c.questions[0].abstention for c in cases) == 15
    assert len(list(iter_longmemeval(LME_ORACLE, limit=3))) == 3


def test_parse_longmemeval_datetime() -> None:
    assert parse_longmemeval_datetime("2023/05/30 (Tue) 23:40") == datetime(2023, 5, 30, 23, 40)
    with pytest.raises(ValueError):
        parse_longmemeval_datetime("30 May 2023")
    with pytest.raises(ValueError):
        official_session_id("no-turn-suffix")


# ------------------------------------------------------------------ malformed files


def _lme_record() -> dict[str, object]:
    return {
        "question_id": "q1",
        "question_type": "single-session-user",
        "question": "What?",
        "question_date": "2023/05/30 (Tue) 23:40",
        "answer": "x",
        "answer_session_ids": ["answer_1"],
        "haystack_dates": ["2023/05/01 (Mon) 10:00"],
        "haystack_session_ids": ["answer_1"],
        "haystack_sessions": [
            [
                {"role": "user", "content": "hi", "has_answer": True},
                {"role": "assistant", "content": "ok", "has_answer": False},
            ]
        ],
    }


def test_small_longmemeval_file_plain_and_gzip(tmp_path: Path) -> None:
    plain = tmp_path / "lme.json"
    plain.write_text(json.dumps([_lme_record()]))
    packed = tmp_path / "lme.json.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, packed):
        (case,) = iter_longmemeval(path)
        assert [t.id for t in case.sessions[0].turns] == ["answer_1_1", "noans_1_2"]
        assert case.questions[0].gold_sessions == {"answer_1"}


def test_wrong_file_raises_value_error_naming_the_field(tmp_path: Path) -> None:
    locomo_like = tmp_path / "locomo_like.json"
    locomo_like.write_text(json.dumps([{"sample_id": "c", "conversation": {}, "qa": []}]))
    with pytest.raises(ValueError, match=r"record 0: field 'question_id': missing"):
        list(iter_longmemeval(locomo_like))
    lme_like = tmp_path / "lme_like.json"
    lme_like.write_text(json.dumps([_lme_record()]))
    with pytest.raises(ValueError, match=r"lme_like\.json: record 0: field 'sample_id'"):
        load_locomo(lme_like)


def test_malformed_fields(tmp_path: Path) -> None:
    rec = _lme_record()
    del rec["haystack_sessions"][0][0]["has_answer"]  # type: ignore[index]
    path = tmp_path / "no_has_answer.json"
    path.write_text(json.dumps([_lme_record(), rec]))
    with pytest.raises(ValueError, match=r"record 1: .*haystack_sessions\[0\]\[0\]\.has_answer"):
        list(iter_longmemeval(path))

    conv = {
        "sample_id": "c",
        "conversation": {
            "session_1_date_time": "yesterday",
            "session_1": [{"speaker": "A", "dia_id": "D1:1", "text": "hi"}],
        },
        "qa": [],
    }
    bad_date = tmp_path / "bad_date.json"
    bad_date.write_text(json.dumps([conv]))
    with pytest.raises(ValueError, match="session_1_date_time"):
        load_locomo(bad_date)

    not_list = tmp_path / "dict.json"
    not_list.write_text(json.dumps({"question_id": "q"}))
    with pytest.raises(ValueError, match="expected a JSON list"):
        list(iter_longmemeval(not_list))

    not_json = tmp_path / "notes.txt"
    not_json.write_text("hello")
    with pytest.raises(ValueError, match="not a JSON file"):
        load_locomo(not_json)
