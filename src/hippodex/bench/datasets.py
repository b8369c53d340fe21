"""Loaders for the LoCoMo, LongMemEval and BEAM benchmark files into frozen dataclasses.

Rules follow ``shared/data/README.md`` to the letter:

LoCoMo (``locomo_dev.json``): a session exists only if its ``session_<n>`` list exists
(conv-26 has dangling ``session_20..35_date_time`` keys). Sessions are ``S<n>``, turns keep
their ``dia_id``; every turn is a retrieval unit. Evidence entries are split on ``;`` and
whitespace, ``D:11:26`` is normalised to ``D11:26`` and ids that name no turn are dropped
and counted in ``BenchCase.dropped_evidence``. A turn with an image gets
``" [shares <blip_caption>]"`` appended, as the official RAG code embeds it.

LongMemEval (``longmemeval_s_dev.json.gz``, also the oracle file): only user turns are
retrieval units (``is_key``). Turn ids are the official ``<session_id>_<t>`` (t 1-based,
counting both roles); in evidence sessions (official test: ``"answer" in session_id``)
every turn that is not a gold turn gets ``answer`` replaced by ``noans``. That is the
official rule for user turns with ``has_answer`` false; assistant turns are never indexed
officially, and the same renaming guarantees they can never score as gold. Gold turns are
user turns with ``has_answer`` true; gold sessions are the evidence sessions with at least
one such turn (the session-level ``noans`` rule), i.e. ``official_session_id`` of the gold
turns.

BEAM (``beam_100k_dev_sample.json.gz``): see :func:`load_beam`. Each chat batch is a session
``B<n>`` dated by its time anchor, message ids are the turn ids, both roles are retrieval units,
and the generator's ``"->-> 1,1"`` index markers are dropped from user messages.

Counts verified on the dev files (tests/bench/test_datasets.py, tests/bench/test_beam.py):

* LoCoMo dev: 5 conversations, 128 sessions, 2,760 turns (602 with a caption), 999 QA,
  997 with non-empty evidence (the 2 empty ones are category 3 in conv-26). Evidence
  quirks: ``"D8:6; D9:17"`` split into 2 ids, ``"D:11:26"`` normalised, 2 ids dropped
  (``"D10:19"`` and ``"D"``, both conv-42); no QA loses all its evidence.
* LongMemEval-S dev: 249 questions (15 ``_abs``), 11,914 haystack sessions, 123,461 turns
  (61,252 user). 36 questions have empty turn-level gold and the same 36 have empty
  session-level gold: 25 single-session-assistant questions (evidence only on assistant
  turns) and 11 ``_abs`` questions. 9 questions repeat one filler session id (same content,
  two dates) in their haystack, so session ids and turn ids are not always unique there.
* BEAM 100K sample: 3 conversations, 582 messages in 9 batches, 60 questions; the 54 that
  are not abstention cite messages, every citation resolves.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = [
    "CATEGORY_NAMES",
    "BenchCase",
    "BenchFormatError",
    "BenchQuestion",
    "BenchSession",
    "BenchTurn",
    "beam_gold",
    "clean_locomo_evidence",
    "iter_longmemeval",
    "load_beam",
    "load_locomo",
    "locomo_session_of",
    "official_session_id",
    "parse_beam_datetime",
    "parse_locomo_datetime",
    "parse_longmemeval_datetime",
]

CATEGORY_NAMES: dict[str, str] = {
    "1": "multi-hop",
    "2": "temporal",
    "3": "open-domain",
    "4": "single-hop",
    "5": "adversarial",
}


@dataclass(frozen=True, slots=True)
class BenchTurn:
    """One dialogue turn. ``id`` is the benchmark's retrieval id (see module docstring)."""

    id: str
    session_id: str
    role: str  # LoCoMo: always "user" (two humans); LongMemEval: "user" | "assistant"
    speaker: str  # LoCoMo: the speaker's name; LongMemEval: the role
    content: str
    occurred_at: datetime  # the session timestamp; order inside a session is ``seq``
    seq: int  # 0-based position in the session
    is_key: bool  # a retrieval unit of the official metric


@dataclass(frozen=True, slots=True)
class BenchSession:
    id: str
    started_at: datetime
    turns: tuple[BenchTurn, ...]


@dataclass(frozen=True, slots=True)
class BenchQuestion:
    id: str
    question: str
    category: str  # LoCoMo "1".."5" (CATEGORY_NAMES); LongMemEval question_type
    asked_at: datetime | None  # LongMemEval question_date; LoCoMo None
    gold_turns: frozenset[str]
    gold_sessions: frozenset[str]
    abstention: bool  # LongMemEval ``_abs`` questions
    answer: str  # "" for LoCoMo adversarial items that have no ``answer``


@dataclass(frozen=True, slots=True)
class BenchCase:
    id: str
    sessions: tuple[BenchSession, ...]
    questions: tuple[BenchQuestion, ...]
    dropped_evidence: int = 0


# ------------------------------------------------------------------------ helpers


class BenchFormatError(ValueError):
    """The file is not shaped like the benchmark the loader expects."""


class _Where:
    """Error context: file and record index, so a wrong file is easy to diagnose."""

    def __init__(self, path: Path, index: int | None = None) -> None:
        self.path = path
        self.index = index

    def error(self, field: str, problem: str) -> BenchFormatError:
        rec = "" if self.index is None else f" record {self.index}:"
        return BenchFormatError(f"{self.path}:{rec} field {field!r}: {problem}")


def _get(
    obj: Mapping[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    where: _Where,
    field: str | None = None,
) -> Any:
    """``obj[key]`` checked against ``kind``; errors name ``field`` (default: ``key``)."""
    name = field or key
    if key not in obj:
        raise where.error(name, "missing")
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int subclass; only accept it where bool is asked for.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise where.error(name, f"expected {names}, got {type(value).__name__}")
    return value


def _read_json(path: Path) -> Any:
    """Load JSON, gzip-compressed or not (detected by the magic bytes, not the suffix)."""
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    try:
        if gz:
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                return json.load(fh)
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except (
        UnicodeDecodeError,
        EOFError,
        gzip.BadGzipFile,
        json.JSONDecodeError,
    ) as exc:
        raise BenchFormatError(f"{path}: not a JSON file: {exc}") from exc


def _top_list(raw: Any, path: Path, what: str) -> list[Any]:
    if not isinstance(raw, list):
        raise BenchFormatError(f"{path}: expected a JSON list of {what}, got {type(raw).__name__}")
    return raw


def _dict_record(rec: Any, where: _Where) -> Mapping[str, Any]:
    if not isinstance(rec, dict):
        raise where.error("<record>", f"expected an object, got {type(rec).__name__}")
    return rec


# ------------------------------------------------------------------------- LoCoMo

_LOCOMO_DATE = "%I:%M %p on %d %B, %Y"  # "1:56 pm on 8 May, 2023"
_SESSION_KEY = re.compile(r"session_(\d+)")
_DIA_ID = re.compile(r"D(\d+):(\d+)")
_BROKEN_DIA_ID = re.compile(r"D:(\d+):(\d+)")  # "D:11:26" -> "D11:26"


def parse_locomo_datetime(text: str) -> datetime:
    """Parse a LoCoMo session timestamp such as ``"1:56 pm on 8 May, 2023"`` (naive)."""
    return datetime.strptime(text.strip(), _LOCOMO_DATE)


def locomo_session_of(dia_id: str) -> str:
    """``"D8:6"`` -> ``"S8"``: the session id of a LoCoMo dialogue id."""
    m = _DIA_ID.fullmatch(dia_id)
    if m is None:
        raise ValueError(f"not a LoCoMo dia_id: {dia_id!r}")
    return f"S{int(m.group(1))}"


def clean_locomo_evidence(raw: list[str], known: set[str]) -> tuple[list[str], int]:
    """Split, normalise and filter one QA's evidence; returns (ids in order, dropped count)."""
    kept: list[str] = []
    dropped = 0
    for entry in raw:
        tokens = [t for t in re.split(r"[;\s]+", entry) if t]
        if not tokens:
            dropped += 1
        for token in tokens:
            token = _BROKEN_DIA_ID.sub(r"D\1:\2", token)
            if token not in known:
                dropped += 1
            elif token not in kept:
                kept.append(token)
    return kept, dropped


def _locomo_case(rec: Mapping[str, Any], where: _Where) -> BenchCase:
    sample_id = _get(rec, "sample_id", str, where)
    conv = _get(rec, "conversation", dict, where)
    qa_list = _get(rec, "qa", list, where)

    numbers = sorted(
        int(m.group(1)) for key, value in conv.items() if (m := _SESSION_KEY.fullmatch(key)) and isinstance(value, list)
    )
    if not numbers:
        raise where.error("conversation.session_<n>", "no session lists")

    sessions: list[BenchSession] = []
    known: set[str] = set()
    for n in numbers:
        date_field = f"conversation.session_{n}_date_time"
        date_text = _get(conv, f"session_{n}_date_time", str, where, date_field)
        try:
            started = parse_locomo_datetime(date_text)
        except ValueError as exc:
            raise where.error(date_field, f"bad timestamp {date_text!r}") from exc
        turns: list[BenchTurn] = []
        for seq, turn in enumerate(conv[f"session_{n}"]):
            tf = f"conversation.session_{n}[{seq}]"
            if not isinstance(turn, dict):
                raise where.error(tf, "expected an object")
            dia_id = _get(turn, "dia_id", str, where, f"{tf}.dia_id")
            if dia_id in known:
                raise where.error(f"{tf}.dia_id", f"duplicate id {dia_id!r}")
            known.add(dia_id)
            text = _get(turn, "text", str, where, f"{tf}.text")
            caption = turn.get("blip_caption")
            if isinstance(caption, str) and caption:
                text = f"{text} [shares {caption}]"
            turns.append(
                BenchTurn(
                    id=dia_id,
                    session_id=f"S{n}",
                    role="user",
                    speaker=_get(turn, "speaker", str, where, f"{tf}.speaker"),
                    content=text,
                    occurred_at=started,
                    seq=seq,
                    is_key=True,
                )
            )
        sessions.append(BenchSession(id=f"S{n}", started_at=started, turns=tuple(turns)))

    questions: list[BenchQuestion] = []
    dropped_total = 0
    for j, qa in enumerate(qa_list):
        qf = f"qa[{j}]"
        if not isinstance(qa, dict):
            raise where.error(qf, "expected an object")
        evidence = _get(qa, "evidence", list, where, f"{qf}.evidence")
        if not all(isinstance(e, str) for e in evidence):
            raise where.error(f"{qf}.evidence", "expected a list of strings")
        category = _get(qa, "category", int, where, f"{qf}.category")
        if str(category) not in CATEGORY_NAMES:
            raise where.error(f"{qf}.category", f"unknown category {category!r}")
        gold, dropped = clean_locomo_evidence(evidence, known)
        dropped_total += dropped
        answer = qa.get("answer")  # absent on most adversarial (category 5) items
        questions.append(
            BenchQuestion(
                id=f"{sample_id}/q{j}",
                question=_get(qa, "question", str, where, f"{qf}.question"),
                category=str(category),
                asked_at=None,
                gold_turns=frozenset(gold),
                gold_sessions=frozenset(locomo_session_of(g) for g in gold),
                abstention=False,
                answer="" if answer is None else str(answer),
            )
        )
    return BenchCase(
        id=sample_id,
        sessions=tuple(sessions),
        questions=tuple(questions),
        dropped_evidence=dropped_total,
    )


def load_locomo(path: str | Path) -> list[BenchCase]:
    """Load a LoCoMo file (list of conversations) into one ``BenchCase`` per conversation."""
    path = Path(path)
    records = _top_list(_read_json(path), path, "LoCoMo conversations")
    return [_locomo_case(_dict_record(rec, _Where(path, i)), _Where(path, i)) for i, rec in enumerate(records)]


# -------------------------------------------------------------------- LongMemEval

_LME_DATE = re.compile(r"(\d{4})/(\d{2})/(\d{2}) \(\w{3}\) (\d{2}):(\d{2})")


def parse_longmemeval_datetime(text: str) -> datetime:
    """Parse ``"2023/05/30 (Tue) 23:40"`` (naive); the weekday is not checked."""
    m = _LME_DATE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"not a LongMemEval timestamp: {text!r}")
    year, month, day, hour, minute = (int(g) for g in m.groups())
    return datetime(year, month, day, hour, minute)


def official_session_id(turn_id: str) -> str:
    """Session id of an official LongMemEval turn id: drop the trailing ``_<t>``.

    ``strip_turn_id`` of ``evaluate_retrieval_turn2session``. ``"noans_x_3"`` maps to
    ``"noans_x"``, which is never gold: a non-evidence turn of an evidence session does not
    make its session relevant.
    """
    head, sep, tail = turn_id.rpartition("_")
    if not sep or not head or not tail.isdigit():
        raise ValueError(f"not a LongMemEval turn id: {turn_id!r}")
    return head


def _lme_date(text: Any, field: str, where: _Where) -> datetime:
    if not isinstance(text, str):
        raise where.error(field, f"expected str, got {type(text).__name__}")
    try:
        return parse_longmemeval_datetime(text)
    except ValueError as exc:
        raise where.error(field, str(exc)) from exc


def _lme_case(rec: Mapping[str, Any], where: _Where) -> BenchCase:
    qid = _get(rec, "question_id", str, where)
    qtype = _get(rec, "question_type", str, where)
    question = _get(rec, "question", str, where)
    answer = _get(rec, "answer", (str, int, float), where)
    asked_at = _lme_date(_get(rec, "question_date", str, where), "question_date", where)
    sids = _get(rec, "haystack_session_ids", list, where)
    dates = _get(rec, "haystack_dates", list, where)
    hay = _get(rec, "haystack_sessions", list, where)
    if not len(sids) == len(dates) == len(hay):
        raise where.error(
            "haystack_sessions",
            f"lengths differ: {len(sids)} ids, {len(dates)} dates, {len(hay)} sessions",
        )

    sessions: list[BenchSession] = []
    gold_turns: set[str] = set()
    gold_sessions: set[str] = set()
    for j, (sid, raw_turns) in enumerate(zip(sids, hay, strict=True)):
        if not isinstance(sid, str):
            raise where.error(f"haystack_session_ids[{j}]", "expected str")
        if not isinstance(raw_turns, list):
            raise where.error(f"haystack_sessions[{j}]", "expected a list of turns")
        started = _lme_date(dates[j], f"haystack_dates[{j}]", where)
        evidence = "answer" in sid  # official test (process_item_flat_index)
        turns: list[BenchTurn] = []
        for seq, turn in enumerate(raw_turns):
            tf = f"haystack_sessions[{j}][{seq}]"
            if not isinstance(turn, dict):
                raise where.error(tf, "expected an object")
            role = _get(turn, "role", str, where, f"{tf}.role")
            if role not in ("user", "assistant"):
                raise where.error(f"{tf}.role", f"unknown role {role!r}")
            content = _get(turn, "content", str, where, f"{tf}.content")
            gold = False
            if evidence and role == "user":
                # The official code asserts has_answer on user turns of evidence sessions.
                gold = _get(turn, "has_answer", bool, where, f"{tf}.has_answer")
            tid = f"{sid}_{seq + 1}"
            if gold:
                gold_turns.add(tid)
                gold_sessions.add(sid)
            elif evidence:
                tid = tid.replace("answer", "noans")
            turns.append(
                BenchTurn(
                    id=tid,
                    session_id=sid,
                    role=role,
                    speaker=role,
                    content=content,
                    occurred_at=started,
                    seq=seq,
                    is_key=role == "user",
                )
            )
        sessions.append(BenchSession(id=sid, started_at=started, turns=tuple(turns)))

    q = BenchQuestion(
        id=qid,
        question=question,
        category=qtype,
        asked_at=asked_at,
        gold_turns=frozenset(gold_turns),
        gold_sessions=frozenset(gold_sessions),
        abstention=qid.endswith("_abs"),
        answer=str(answer),
    )
    return BenchCase(id=qid, sessions=tuple(sessions), questions=(q,))


def iter_longmemeval(path: str | Path, limit: int | None = None) -> Iterator[BenchCase]:
    """Yield one ``BenchCase`` per LongMemEval question (``.json`` or ``.json.gz``).

    The file is parsed once, when iteration starts; ``limit`` keeps the first n records.
    """
    path = Path(path)
    records = _top_list(_read_json(path), path, "LongMemEval questions")
    if limit is not None:
        records = records[:limit]
    for i, rec in enumerate(records):
        where = _Where(path, i)
        yield _lme_case(_dict_record(rec, where), where)


# --------------------------------------------------------------------------- BEAM

_BEAM_DATE = "%B-%d-%Y"  # "March-15-2024"
# The generator's index marker at the end of user messages ("... ->-> 1,1", "->-> 2,N/A"):
# an annotation, not something the user said.
_BEAM_MARKER = re.compile(r"\s*->->\s*[\w/]+\s*,\s*[\w/]+\s*$")


def parse_beam_datetime(text: str) -> datetime:
    """Parse a BEAM time anchor such as ``"March-15-2024"`` (naive, midnight)."""
    return datetime.strptime(text.strip(), _BEAM_DATE)


def beam_gold(sources: Any) -> list[int]:
    """The message ids a probing question cites: a list, or a dict of lists, flattened in order.

    >>> beam_gold({"first_statement": [58], "second_statement": [24, 58]}), beam_gold([4, 60, 4])
    ([58, 24], [4, 60])
    """
    values = [v for vs in sources.values() for v in vs] if isinstance(sources, dict) else list(sources or [])
    return list(dict.fromkeys(values))


def _beam_case(rec: Mapping[str, Any], where: _Where) -> BenchCase:
    conversation = _get(rec, "conversation_id", str, where)
    batches = _get(rec, "chat", list, where)
    probing = _get(rec, "probing_questions", dict, where)
    sessions: list[BenchSession] = []
    known: set[str] = set()
    anchor: datetime | None = None
    for b, batch in enumerate(batches):
        bf = f"chat[{b}]"
        if not isinstance(batch, dict):
            raise where.error(bf, "expected an object")
        messages = [m for exchange in _get(batch, "turns", list, where, f"{bf}.turns") for m in exchange]
        turns: list[BenchTurn] = []
        for seq, m in enumerate(messages):
            mf = f"{bf}.turns[{seq}]"
            if not isinstance(m, dict):
                raise where.error(mf, "expected an object")
            # A batch's first user message carries its date; the messages after it share it.
            if isinstance(m.get("time_anchor"), str):
                try:
                    anchor = parse_beam_datetime(m["time_anchor"])
                except ValueError as exc:
                    raise where.error(f"{mf}.time_anchor", f"bad date {m['time_anchor']!r}") from exc
            if anchor is None:
                raise where.error(f"{mf}.time_anchor", "no time anchor before the first message")
            role = _get(m, "role", str, where, f"{mf}.role")
            if role not in ("user", "assistant"):
                raise where.error(f"{mf}.role", f"unknown role {role!r}")
            mid = str(_get(m, "id", int, where, f"{mf}.id"))
            if mid in known:
                raise where.error(f"{mf}.id", f"duplicate id {mid}")
            known.add(mid)
            content = _get(m, "content", str, where, f"{mf}.content")
            turns.append(
                BenchTurn(
                    id=mid,
                    session_id=f"B{b + 1}",
                    role=role,
                    speaker=role,
                    content=_BEAM_MARKER.sub("", content) if role == "user" else content,
                    occurred_at=anchor,
                    seq=seq,
                    # Questions cite assistant messages too (a recommendation, a plan).
                    is_key=True,
                )
            )
        if turns:
            sessions.append(BenchSession(id=f"B{b + 1}", started_at=turns[0].occurred_at, turns=tuple(turns)))
    if not sessions:
        raise where.error("chat", "no messages")
    questions: list[BenchQuestion] = []
    dropped = 0
    session_of = {t.id: s.id for s in sessions for t in s.turns}
    for ability, items in probing.items():
        if not isinstance(items, list):
            raise where.error(f"probing_questions.{ability}", "expected a list")
        for j, item in enumerate(items):
            qf = f"probing_questions.{ability}[{j}]"
            if not isinstance(item, dict):
                raise where.error(qf, "expected an object")
            cited = [str(i) for i in beam_gold(item.get("source_chat_ids"))]
            gold = [i for i in cited if i in known]
            dropped += len(cited) - len(gold)
            answer = next(
                (item[k] for k in ("answer", "ideal_answer", "ideal_response", "ideal_summary") if k in item), ""
            )
            questions.append(
                BenchQuestion(
                    id=f"beam-{conversation}/{ability}/{j}",
                    question=_get(item, "question", str, where, f"{qf}.question"),
                    category=ability,
                    asked_at=None,
                    gold_turns=frozenset(gold),
                    gold_sessions=frozenset(session_of[g] for g in gold),
                    abstention=ability == "abstention",
                    answer=str(answer),
                )
            )
    return BenchCase(
        id=f"beam-{conversation}", sessions=tuple(sessions), questions=tuple(questions), dropped_evidence=dropped
    )


def load_beam(path: str | Path) -> list[BenchCase]:
    """Load a BEAM file (list of conversations, as in ``shared/data/beam``) into one ``BenchCase`` each.

    Each chat batch is a session dated by its time anchor; user and assistant
    messages are both retrieval units (questions cite either); a question's gold
    is its ``source_chat_ids``, flattened; abstention questions cite nothing.
    """
    path = Path(path)
    records = _top_list(_read_json(path), path, "BEAM conversations")
    return [_beam_case(_dict_record(rec, _Where(path, i)), _Where(path, i)) for i, rec in enumerate(records)]
