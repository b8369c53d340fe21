"""The time-expression parser, on a table of expressions with a fixed now."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from hippodex import Memory
from hippodex.recall.temporal import TimeWindow, order_preference, parse_window, time_boost, window_weights

NOW = datetime(2023, 5, 30, 23, 40)  # a Tuesday


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("What did I do last Saturday?", date(2023, 5, 27), date(2023, 5, 28)),
        ("what did I cook on Tuesday", date(2023, 5, 23), date(2023, 5, 24)),
        ("the book I bought two weeks ago", date(2023, 5, 13), date(2023, 5, 20)),
        ("a couple of weeks ago", date(2023, 5, 13), date(2023, 5, 20)),
        ("3 days ago", date(2023, 5, 26), date(2023, 5, 29)),
        ("a month ago", date(2023, 4, 15), date(2023, 5, 16)),
        ("in May 2023", date(2023, 5, 1), date(2023, 6, 1)),
        ("during March", date(2023, 3, 1), date(2023, 4, 1)),
        ("what happened in March?", date(2023, 3, 1), date(2023, 4, 1)),
        ("in September", date(2022, 9, 1), date(2022, 10, 1)),  # the latest September not after now
        ("on 8 May", date(2023, 5, 8), date(2023, 5, 9)),
        ("May 8th, 2023", date(2023, 5, 8), date(2023, 5, 9)),
        ("the 3rd of June 2021", date(2021, 6, 3), date(2021, 6, 4)),
        ("Sept 2022", date(2022, 9, 1), date(2022, 10, 1)),
        ("last month", date(2023, 4, 1), date(2023, 5, 1)),
        ("last week", date(2023, 5, 22), date(2023, 5, 29)),
        ("this week", date(2023, 5, 29), date(2023, 6, 5)),
        ("last year", date(2022, 1, 1), date(2023, 1, 1)),
        ("this year", date(2023, 1, 1), date(2024, 1, 1)),
        ("in the past 3 days", date(2023, 5, 27), date(2023, 5, 31)),
        ("over the last two weeks", date(2023, 5, 16), date(2023, 5, 31)),
        ("yesterday", date(2023, 5, 29), date(2023, 5, 30)),
        ("last night", date(2023, 5, 29), date(2023, 5, 30)),
        ("today", date(2023, 5, 30), date(2023, 5, 31)),
        ("in 2022", date(2022, 1, 1), date(2023, 1, 1)),
        ("last weekend", date(2023, 5, 27), date(2023, 5, 29)),
        ("this past weekend", date(2023, 5, 27), date(2023, 5, 29)),
        # With "the", the past month reaches back 30 days from today, not to the calendar month.
        ("in the past month", date(2023, 4, 30), date(2023, 5, 31)),
        ("over the last week", date(2023, 5, 23), date(2023, 5, 31)),
        ("the last few months", date(2023, 3, 1), date(2023, 5, 31)),
        ("a couple weeks ago", date(2023, 5, 13), date(2023, 5, 20)),
        ("since the start of the year", date(2023, 1, 1), date(2023, 5, 31)),
        ("what I did today, before lunch", date(2023, 5, 30), date(2023, 5, 31)),
    ],
)
def test_expressions_resolve_against_now(text: str, start: date, end: date) -> None:
    window = parse_window(text, NOW)
    assert window is not None, text
    assert (window.start.date(), window.end.date()) == (start, end)


@pytest.mark.parametrize(
    "text",
    [
        "where do I live?",
        "I like the number 2023",
        "may I ask something",
        "Sunday roast",
        "the airlines I flew with, from earliest to latest, before today",  # bounds the question, no window
        "as of today, how many books have I read",
        "the last week of the course",  # a week of something, not last week
    ],
)
def test_no_time_expression(text: str) -> None:
    assert parse_window(text, NOW) is None


def test_aware_now_gives_aware_window() -> None:
    window = parse_window("yesterday", NOW.replace(tzinfo=UTC))
    assert window is not None and window.start.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("the first time I went hiking", -1),
        ("what did I originally plan", -1),
        ("my most recent trip", 1),
        ("what is my latest score", 1),
        ("where do I live now", 1),
        ("where is Lisbon", 0),
        ("first and most recent", 0),
    ],
)
def test_order_preference(text: str, direction: int) -> None:
    assert order_preference(text) == direction


def test_window_weights_fall_off_outside() -> None:
    window = TimeWindow(datetime(2023, 5, 10), datetime(2023, 5, 11), "x")
    days = np.array([datetime(2023, 5, d).timestamp() for d in (10, 12, 14, 20)])
    # inside: 1; 1 day after the end: 1 - 1/3; 3 days after: 0; far: 0
    assert window_weights(days, window) == pytest.approx([1.0, 2 / 3, 0.0, 0.0])


def test_time_boost_prefers_the_window_then_the_ordering_cue() -> None:
    occurred = np.array([datetime(2023, 5, 27).timestamp(), datetime(2023, 4, 1).timestamp()])
    scores = np.array([1.0, 1.0])
    assert time_boost(occurred, scores, "what did I do last Saturday", NOW, 0.5).tolist() == [1.5, 1.0]
    assert time_boost(occurred, scores, "my first trip", NOW, 0.5).tolist() == [1.0, 1.25]
    assert time_boost(occurred, scores, "a trip", NOW, 0.5).tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    "text", ["civilisations of 5000 years ago", "999999 weeks ago", "what happened 4000 years ago?"]
)
def test_expressions_outside_the_calendar_are_ignored(text: str) -> None:
    # Found on LongMemEval text: timedelta overflowed and the whole extraction failed.
    assert parse_window(text, datetime(2023, 5, 27)) is None


def test_a_query_outside_the_calendar_still_searches(tmp_path: Path) -> None:
    with Memory(tmp_path / "m.db", encoder=None) as m:
        m.add("pyramids were built long ago", user_id="u")
        assert m.search("pyramids 5000 years ago", user_id="u")[0].episode.content.startswith("pyramids")
