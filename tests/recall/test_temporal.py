"""The time-expression parser, on a table of expressions with a fixed now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hippodex import Memory
from hippodex.recall.temporal import TimeWindow, order_preference, parse_window, time_boost, window_weights

NOW = datetime(2023, 5, 30, 23, 40)  # a Tuesday
WED = datetime(2023, 5, 17, 14, 30)  # a Wednesday mid-month
SAT = datetime(2023, 5, 20, 10, 0)
SUN = datetime(2023, 5, 21, 18, 0)
MON = datetime(2023, 5, 15, 8, 0)
MAY10 = datetime(2023, 5, 10, 12, 0)
JAN15 = datetime(2023, 1, 15, 12, 0)
MAR31 = datetime(2023, 3, 31, 10, 0)  # a Friday; February is shorter
JAN1 = datetime(2024, 1, 1, 9, 0)  # a Monday
LEAP = datetime(2024, 2, 29, 12, 0)  # a Thursday


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


D = date
# What a careful reader means, with the reading chosen where English is ambiguous
# (see the module docstring): windows are whole days, [start, end).
TABLE = [
    # WED is Wednesday 17 May 2023; its week is Monday 15 - Sunday 21 May.
    ("What did I do yesterday?", WED, D(2023, 5, 16), D(2023, 5, 17)),
    ("what did I eat today", WED, D(2023, 5, 17), D(2023, 5, 18)),
    ("what are we doing tonight", WED, D(2023, 5, 17), D(2023, 5, 18)),
    ("what did I have for breakfast this morning", WED, D(2023, 5, 17), D(2023, 5, 18)),
    ("this evening", WED, D(2023, 5, 17), D(2023, 5, 18)),
    ("last night", WED, D(2023, 5, 16), D(2023, 5, 17)),
    ("the day before yesterday", WED, D(2023, 5, 15), D(2023, 5, 16)),
    ("the night before last", WED, D(2023, 5, 15), D(2023, 5, 16)),
    ("tomorrow", WED, D(2023, 5, 18), D(2023, 5, 19)),
    ("what did I do last Saturday", WED, D(2023, 5, 13), D(2023, 5, 14)),
    ("on Saturday", WED, D(2023, 5, 13), D(2023, 5, 14)),
    ("this Saturday", WED, D(2023, 5, 20), D(2023, 5, 21)),
    ("next Saturday", WED, D(2023, 5, 20), D(2023, 5, 21)),  # the first after today
    ("last Wednesday", WED, D(2023, 5, 10), D(2023, 5, 11)),
    ("this Monday", WED, D(2023, 5, 15), D(2023, 5, 16)),
    ("two Saturdays ago", WED, D(2023, 5, 6), D(2023, 5, 7)),
    ("Monday night", WED, D(2023, 5, 15), D(2023, 5, 16)),
    ("monday night", WED, D(2023, 5, 15), D(2023, 5, 16)),
    ("what did I do Monday Night", WED, D(2023, 5, 15), D(2023, 5, 16)),  # title case, but no title after
    ("on Monday Night at the bar", WED, D(2023, 5, 15), D(2023, 5, 16)),
    ("Tuesday Morning store", WED, D(2023, 5, 16), D(2023, 5, 17)),  # the shop, or the time: read as the time
    ("On Monday Alice called", WED, D(2023, 5, 15), D(2023, 5, 16)),  # a capitalised name, not a title
    ("I saw Bob Friday night", WED, D(2023, 5, 12), D(2023, 5, 13)),
    ("watched Monday Night Football last night", WED, D(2023, 5, 16), D(2023, 5, 17)),  # the title is no time
    ("last week", WED, D(2023, 5, 8), D(2023, 5, 15)),
    ("this week", WED, D(2023, 5, 15), D(2023, 5, 22)),
    ("next week", WED, D(2023, 5, 22), D(2023, 5, 29)),
    ("earlier this week", WED, D(2023, 5, 15), D(2023, 5, 18)),
    ("last month", WED, D(2023, 4, 1), D(2023, 5, 1)),
    ("this month", WED, D(2023, 5, 1), D(2023, 6, 1)),
    ("earlier this month", WED, D(2023, 5, 1), D(2023, 5, 18)),
    ("next month", WED, D(2023, 6, 1), D(2023, 7, 1)),
    ("last year", WED, D(2022, 1, 1), D(2023, 1, 1)),
    ("this year", WED, D(2023, 1, 1), D(2024, 1, 1)),
    ("so far this year", WED, D(2023, 1, 1), D(2023, 5, 18)),
    ("the past few days", WED, D(2023, 5, 14), D(2023, 5, 18)),
    ("in the last 3 weeks", WED, D(2023, 4, 26), D(2023, 5, 18)),
    ("over the past two months", WED, D(2023, 3, 18), D(2023, 5, 18)),
    ("in the past year", WED, D(2022, 5, 17), D(2023, 5, 18)),
    ("this past week", WED, D(2023, 5, 10), D(2023, 5, 18)),
    ("the past couple of weeks", WED, D(2023, 5, 3), D(2023, 5, 18)),
    ("over the last couple weeks", WED, D(2023, 5, 3), D(2023, 5, 18)),
    ("in the last 24 hours", WED, D(2023, 5, 16), D(2023, 5, 18)),
    ("2 days ago", WED, D(2023, 5, 14), D(2023, 5, 17)),
    ("a couple of weeks ago", WED, D(2023, 4, 30), D(2023, 5, 7)),
    ("a few days ago", WED, D(2023, 5, 13), D(2023, 5, 16)),
    ("10 days ago", WED, D(2023, 5, 6), D(2023, 5, 9)),
    ("ten days ago", WED, D(2023, 5, 6), D(2023, 5, 9)),
    ("a month ago", WED, D(2023, 4, 2), D(2023, 5, 3)),
    ("a year ago", WED, D(2021, 11, 16), D(2022, 11, 16)),
    ("a fortnight ago", WED, D(2023, 4, 30), D(2023, 5, 7)),
    ("a few weeks back, I went", WED, D(2023, 4, 23), D(2023, 4, 30)),
    ("half a year ago", WED, D(2022, 11, 3), D(2022, 12, 4)),
    ("0 days ago", WED, D(2023, 5, 16), D(2023, 5, 18)),  # cut at the end of today
    ("in May", WED, D(2023, 5, 1), D(2023, 5, 18)),  # not past now
    ("in June", WED, D(2022, 6, 1), D(2022, 7, 1)),
    ("in May 2023", WED, D(2023, 5, 1), D(2023, 6, 1)),
    ("May of 2023", WED, D(2023, 5, 1), D(2023, 6, 1)),
    ("May 8", WED, D(2023, 5, 8), D(2023, 5, 9)),
    ("8 May", WED, D(2023, 5, 8), D(2023, 5, 9)),
    ("on the 8th of May", WED, D(2023, 5, 8), D(2023, 5, 9)),
    ("May 8th, 2023", WED, D(2023, 5, 8), D(2023, 5, 9)),
    ("2023-05-08", WED, D(2023, 5, 8), D(2023, 5, 9)),
    ("5/8/2023", WED, D(2023, 5, 8), D(2023, 5, 9)),  # US order
    ("25/12/2022", WED, D(2022, 12, 25), D(2022, 12, 26)),  # only a day can be 25
    ("12/25/22", WED, D(2022, 12, 25), D(2022, 12, 26)),
    ("5/02/2020", WED, D(2020, 5, 2), D(2020, 5, 3)),  # either order could be meant: month first
    ("25/02/2020", WED, D(2020, 2, 25), D(2020, 2, 26)),  # only a day can be 25
    ("02/25/2020", WED, D(2020, 2, 25), D(2020, 2, 26)),
    ("Sept. 3", WED, D(2022, 9, 3), D(2022, 9, 4)),
    ("Jan 2nd", WED, D(2023, 1, 2), D(2023, 1, 3)),
    ("on the first of May", WED, D(2023, 5, 1), D(2023, 5, 2)),
    ("on the 8th", WED, D(2023, 5, 8), D(2023, 5, 9)),
    ("on the 4th of July", WED, D(2022, 7, 4), D(2022, 7, 5)),  # a date, which is the holiday
    ("in 2022", WED, D(2022, 1, 1), D(2023, 1, 1)),
    ("back in 1999 I moved to Lisbon", WED, D(1999, 1, 1), D(2000, 1, 1)),
    ("In 2020 people stayed home", WED, D(2020, 1, 1), D(2021, 1, 1)),  # people count only after "of"
    ("In 2020 word got out", WED, D(2020, 1, 1), D(2021, 1, 1)),  # a singular unit is no count
    ("In 2020 $5 went far", WED, D(2020, 1, 1), D(2021, 1, 1)),  # a currency sign apart from the number
    ("I drove 2000 miles in 2021", WED, D(2021, 1, 1), D(2022, 1, 1)),
    ("the summer of 2020", WED, D(2020, 6, 1), D(2020, 9, 1)),
    ("during 2021", WED, D(2021, 1, 1), D(2022, 1, 1)),
    ("in the 1990s", WED, D(1990, 1, 1), D(2000, 1, 1)),
    ("last spring", WED, D(2022, 3, 1), D(2022, 6, 1)),  # this spring is not over
    ("last summer", WED, D(2022, 6, 1), D(2022, 9, 1)),
    ("last winter", WED, D(2022, 12, 1), D(2023, 3, 1)),
    ("this summer", WED, D(2023, 6, 1), D(2023, 9, 1)),
    ("in the fall", WED, D(2022, 9, 1), D(2022, 12, 1)),
    ("summer 2021", WED, D(2021, 6, 1), D(2021, 9, 1)),
    ("last weekend", WED, D(2023, 5, 13), D(2023, 5, 15)),
    ("this past weekend", WED, D(2023, 5, 13), D(2023, 5, 15)),
    ("over the weekend", WED, D(2023, 5, 13), D(2023, 5, 15)),
    ("the weekend before last", WED, D(2023, 5, 6), D(2023, 5, 8)),
    ("this weekend", WED, D(2023, 5, 20), D(2023, 5, 22)),
    ("at Christmas", WED, D(2022, 12, 25), D(2022, 12, 26)),
    ("on Christmas Eve", WED, D(2022, 12, 24), D(2022, 12, 25)),
    ("on New Year's Eve", WED, D(2022, 12, 31), D(2023, 1, 1)),
    ("around Easter", WED, D(2023, 4, 9), D(2023, 4, 10)),
    ("last Thanksgiving", WED, D(2022, 11, 24), D(2022, 11, 25)),
    ("on valentine’s day", WED, D(2023, 2, 14), D(2023, 2, 15)),
    ("on Easter Sunday", WED, D(2023, 4, 9), D(2023, 4, 10)),  # a holiday, not a weekday in a name
    # Days named after a weekday, dated from Easter or Thanksgiving: the day, not the weekday.
    ("on Easter Monday", WED, D(2023, 4, 10), D(2023, 4, 11)),
    ("on Good Friday", WED, D(2023, 4, 7), D(2023, 4, 8)),
    ("on Holy Saturday", WED, D(2023, 4, 8), D(2023, 4, 9)),
    ("on Maundy Thursday", WED, D(2023, 4, 6), D(2023, 4, 7)),
    ("on Shrove Tuesday", WED, D(2023, 2, 21), D(2023, 2, 22)),
    ("at Whit Monday", WED, D(2022, 6, 6), D(2022, 6, 7)),  # this year's is still to come
    ("on Whit Sunday", WED, D(2022, 6, 5), D(2022, 6, 6)),
    ("on Black Friday", WED, D(2022, 11, 25), D(2022, 11, 26)),
    ("I shopped on Black Friday night", WED, D(2022, 11, 25), D(2022, 11, 26)),
    ("on Black Friday 2021", WED, D(2021, 11, 26), D(2021, 11, 27)),
    ("next Black Friday", WED, D(2023, 11, 24), D(2023, 11, 25)),
    # Days dated by a rule (US ones unless named otherwise), and a holiday's weekend.
    ("on Super Bowl Sunday", WED, D(2023, 2, 12), D(2023, 2, 13)),  # the second Sunday since 2022
    ("at the Super Bowl party", WED, D(2023, 2, 12), D(2023, 2, 13)),
    ("during the Super Bowl 2020", WED, D(2020, 2, 2), D(2020, 2, 3)),  # the first Sunday before
    ("on Mother's Day", WED, D(2023, 5, 14), D(2023, 5, 15)),
    ("on mothers day", WED, D(2023, 5, 14), D(2023, 5, 15)),
    ("on Mothering Sunday", WED, D(2023, 3, 19), D(2023, 3, 20)),  # the UK's, three weeks before Easter
    ("on Father's Day", WED, D(2022, 6, 19), D(2022, 6, 20)),  # this year's is still to come
    ("on Memorial Day 2021", WED, D(2021, 5, 31), D(2021, 6, 1)),  # the last Monday of May
    ("over Memorial Day weekend", WED, D(2022, 5, 28), D(2022, 5, 31)),  # Saturday to Monday
    ("on Labour Day", WED, D(2022, 9, 5), D(2022, 9, 6)),
    ("on MLK Day", WED, D(2023, 1, 16), D(2023, 1, 17)),
    ("on Presidents' Day", WED, D(2023, 2, 20), D(2023, 2, 21)),
    ("on St. Patrick's Day", WED, D(2023, 3, 17), D(2023, 3, 18)),
    ("on Veterans Day", WED, D(2022, 11, 11), D(2022, 11, 12)),
    ("on Boxing Day", WED, D(2022, 12, 26), D(2022, 12, 27)),
    ("last Thanksgiving weekend", WED, D(2022, 11, 24), D(2022, 11, 28)),  # Thursday to Sunday
    ("on Christmas weekend", WED, D(2022, 12, 24), D(2022, 12, 26)),  # Christmas 2022 was a Sunday
    ("since Cyber Monday", WED, D(2022, 11, 28), D(2023, 5, 18)),
    ("since March", WED, D(2023, 3, 1), D(2023, 5, 18)),
    ("since 2021", WED, D(2021, 1, 1), D(2023, 5, 18)),
    ("after June 2022", WED, D(2022, 7, 1), D(2023, 5, 18)),
    ("between March and May", WED, D(2023, 3, 1), D(2023, 5, 18)),
    ("from March 2022 to May", WED, D(2022, 3, 1), D(2022, 6, 1)),
    ("the first week of June", WED, D(2022, 6, 1), D(2022, 6, 8)),
    ("the last week of April", WED, D(2023, 4, 24), D(2023, 5, 1)),
    ("early May", WED, D(2023, 5, 1), D(2023, 5, 11)),
    ("mid-May", WED, D(2023, 5, 11), D(2023, 5, 18)),
    ("late May", WED, D(2022, 5, 21), D(2022, 6, 1)),  # this year's has not begun
    ("the end of last year", WED, D(2022, 12, 1), D(2023, 1, 1)),
    ("in early 2022", WED, D(2022, 1, 1), D(2022, 5, 1)),
    ("the week of May 8", WED, D(2023, 5, 8), D(2023, 5, 15)),
    ("the week after Easter", WED, D(2023, 4, 10), D(2023, 4, 17)),
    # Counted back from a named date, the window runs on to that date (when it was said).
    ("the day before Christmas", WED, D(2022, 12, 24), D(2022, 12, 26)),
    ("two weeks before May 1, 2023", WED, D(2023, 4, 14), D(2023, 5, 2)),
    ("the Sunday before April 10, 2023", WED, D(2023, 4, 9), D(2023, 4, 11)),
    ("as of December 2022", WED, D(2022, 12, 1), D(2023, 1, 1)),
    ("WHAT DID I DO LAST SATURDAY?", WED, D(2023, 5, 13), D(2023, 5, 14)),
    ("last   Saturday", WED, D(2023, 5, 13), D(2023, 5, 14)),
    ("Last Saturday's dinner", WED, D(2023, 5, 13), D(2023, 5, 14)),
    ("what did I eat on 29 February", WED, D(2020, 2, 29), D(2020, 3, 1)),  # the latest leap day
    ("February 30", WED, D(2023, 2, 1), D(2023, 3, 1)),  # no such day: the month
    # Said on a Saturday and on a Sunday.
    ("last Saturday", SAT, D(2023, 5, 13), D(2023, 5, 14)),
    ("this Saturday", SAT, D(2023, 5, 20), D(2023, 5, 21)),
    ("last weekend", SAT, D(2023, 5, 13), D(2023, 5, 15)),
    ("this weekend", SAT, D(2023, 5, 20), D(2023, 5, 22)),
    ("last Saturday", SUN, D(2023, 5, 20), D(2023, 5, 21)),
    ("last weekend", SUN, D(2023, 5, 13), D(2023, 5, 15)),  # this one is not over
    ("this weekend", SUN, D(2023, 5, 20), D(2023, 5, 22)),
    ("last week", SUN, D(2023, 5, 8), D(2023, 5, 15)),
    ("next Monday", SUN, D(2023, 5, 22), D(2023, 5, 23)),
    # On a Monday.
    ("last week", MON, D(2023, 5, 8), D(2023, 5, 15)),
    ("last weekend", MON, D(2023, 5, 13), D(2023, 5, 15)),
    ("on Monday", MON, D(2023, 5, 8), D(2023, 5, 9)),
    ("this week", MON, D(2023, 5, 15), D(2023, 5, 22)),
    # Year boundaries.
    ("yesterday", JAN1, D(2023, 12, 31), D(2024, 1, 1)),
    ("last week", JAN1, D(2023, 12, 25), D(2024, 1, 1)),
    ("last month", JAN1, D(2023, 12, 1), D(2024, 1, 1)),
    ("last year", JAN1, D(2023, 1, 1), D(2024, 1, 1)),
    ("in December", JAN1, D(2023, 12, 1), D(2024, 1, 1)),
    ("this winter", JAN1, D(2023, 12, 1), D(2024, 3, 1)),
    ("last winter", JAN1, D(2022, 12, 1), D(2023, 3, 1)),
    ("at Christmas", JAN1, D(2023, 12, 25), D(2023, 12, 26)),
    ("on New Year's Eve", JAN1, D(2023, 12, 31), D(2024, 1, 1)),
    ("between December and February", JAN1, D(2022, 12, 1), D(2023, 3, 1)),
    ("a month ago", JAN1, D(2023, 11, 17), D(2023, 12, 18)),
    ("in the past week", JAN1, D(2023, 12, 25), D(2024, 1, 2)),
    ("last month", JAN15, D(2022, 12, 1), D(2023, 1, 1)),
    ("in January", JAN15, D(2023, 1, 1), D(2023, 1, 16)),
    ("in March", JAN15, D(2022, 3, 1), D(2022, 4, 1)),
    # February in a leap year.
    ("on 29 February", LEAP, D(2024, 2, 29), D(2024, 3, 1)),
    ("in February", LEAP, D(2024, 2, 1), D(2024, 3, 1)),
    ("last month", LEAP, D(2024, 1, 1), D(2024, 2, 1)),
    ("this month", LEAP, D(2024, 2, 1), D(2024, 3, 1)),
    ("a year ago", LEAP, D(2022, 8, 31), D(2023, 8, 31)),
    ("last February", LEAP, D(2023, 2, 1), D(2023, 3, 1)),
    ("early February", LEAP, D(2024, 2, 1), D(2024, 2, 11)),
    ("late February", LEAP, D(2024, 2, 21), D(2024, 3, 1)),
    ("the last week of February", LEAP, D(2024, 2, 23), D(2024, 3, 1)),
    # Month arithmetic on the 31st.
    ("last month", MAR31, D(2023, 2, 1), D(2023, 3, 1)),
    ("a month ago", MAR31, D(2023, 2, 14), D(2023, 3, 17)),
    ("on the 31st", MAR31, D(2023, 3, 31), D(2023, 4, 1)),
    ("on the 31st", WED, D(2023, 3, 31), D(2023, 4, 1)),  # April has no 31st
    ("in the last 30 days", MAR31, D(2023, 3, 1), D(2023, 4, 1)),
    ("since the beginning of the month", MAR31, D(2023, 3, 1), D(2023, 4, 1)),
    ("in May", MAY10, D(2023, 5, 1), D(2023, 5, 11)),
    ("what happened in May?", MAY10, D(2023, 5, 1), D(2023, 5, 11)),
]


@pytest.mark.parametrize(("text", "now", "start", "end"), TABLE)
def test_table_of_expressions(text: str, now: datetime, start: date, end: date) -> None:
    window = parse_window(text, now)
    assert window is not None, text
    assert (window.start, window.end) == (
        datetime.combine(start, datetime.min.time()),
        datetime.combine(end, datetime.min.time()),
    )


@pytest.mark.parametrize(
    "text",
    [
        "May I ask what you recommended?",
        "I may go",
        "This may sound odd",
        "the second time",
        "the first time I went hiking",
        "March of the penguins",
        "a march through the city",
        "a week-long trip",
        "I have 2020 photos",
        "Sunday school",
        "what did I say last?",
        "a Christmas tree",
        "what did I buy for Christmas",  # a purpose, not a time
        "before I moved",  # an event
        "since I moved",
        "a while ago",
        "the other day",
        "what have I been reading recently",  # an ordering cue, not a window
        "what have I been up to lately",
        "where did I live before 2020",  # a bound
        "until May",
        "prior to last week",
        "5/8",  # a fraction or a score without a year
        "I ran 5 km on 3/4",
        "score 2-1",
        "the 10/20/30 rule",
        "I read it in 3 days",
        "the last time I went",
        "the last day I saw her",
        "during the fall of Rome",
        "a book from the 1960s",
        "Monday",
        "the 8th",
        "after June 2023",  # not yet
        "May 9999",
        "I order burgers every Friday night",  # a habit, not a time
        "each summer we go to Maine",
        "every other weekend",
        "every Christmas",
        "every day",
        # A count, not a year.
        "write an essay in 2000 words",
        "in 2000 words",
        "I walked 2000 steps",
        "1500 calories",
        "2024 people came",
        "an essay of 2000 words",
        "a crowd of 2000 people",
        "a history of 2000 years",
        "in 2000 years",
        "in 2000-word chunks",
        "in 2000$",
        "I spent $2000 on a bike",
        "about 2000 km",
        "over 2000 miles",
        "after 2000 steps",
        "between 1900 and 2000 calories",
        "from 1900 to 2000 words",
        "at the end of 2000 words",
        # A weekday inside a name.
        "Monday Night Football",
        "I watched Monday Night Football",
        "on Monday Night Football",
        "the last Monday Night Football game",
        "MONDAY NIGHT FOOTBALL",
        "we watched monday night football",
        "I watch Saturday Night Live",
        "Saturday Night Fever",
        "Tuesday Morning Store",
        "Black Friday",
        "I shopped Black Friday night",  # a named day needs "on", "at" and the like, as holidays do
        "Good Friday morning",
        "Super Bowl Sunday night",  # a day of the year needs "on", "at" and the like
        "veterans' rights",
        "we met at St. Patrick's Cathedral",
        "Cyber Monday morning",
        # Neither order is a date.
        "13/13/2020",
        "",
    ],
)
def test_no_window(text: str) -> None:
    assert parse_window(text, WED) is None


NEW_YORK = ZoneInfo("America/New_York")
INDIA = timezone(timedelta(hours=5, minutes=30))


@pytest.mark.parametrize("tz", [NEW_YORK, INDIA, UTC])
def test_aware_now_keeps_its_zone_and_wall_time(tz: ZoneInfo | timezone) -> None:
    # 23:30 in New York is already the next day in UTC; the window is the local day before.
    now = datetime(2023, 5, 17, 23, 30, tzinfo=tz)
    window = parse_window("what did I do yesterday", now)
    assert window is not None
    assert window.start == datetime(2023, 5, 16, tzinfo=tz) and window.end == datetime(2023, 5, 17, tzinfo=tz)
    assert window.start.tzinfo is tz and window.end.tzinfo is tz
    assert parse_window("last month", now) == TimeWindow(
        datetime(2023, 4, 1, tzinfo=tz), datetime(2023, 5, 1, tzinfo=tz), "last month"
    )


PAST = [
    "yesterday",
    "in May",
    "in March",
    "in the summer",
    "late May",
    "mid-May",
    "at Christmas",
    "on Saturday",
    "last weekend",
    "on the 31st",
    "since March",
    "between March and May",
    "0 days ago",
    "a day ago",
    "in the past 3 days",
    "earlier this month",
    "so far this year",
]


@pytest.mark.parametrize("now", [WED, SAT, SUN, MON, MAY10, JAN1, JAN15, LEAP, MAR31])
@pytest.mark.parametrize("text", PAST)
def test_a_past_window_never_ends_after_today(text: str, now: datetime) -> None:
    window = parse_window(text, now)
    assert window is not None
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
    assert window.start < window.end <= tomorrow
    assert window.start <= now  # something of it has happened


ODD = [
    "",
    " ",
    "?",
    "\x00",
    "99/99/9999",
    "32/13/2023",
    "February 30",
    "February 30, 2023",
    "the 0th of May",
    "May 0",
    "0 days ago",
    "1000000 years ago",
    "999999999 weeks ago",
    "100000000000000000000000 days ago",
    "1" * 5000 + " days ago",
    "over the past 1000000 years",
    "in 0001",
    "9999-12-31",
    "0000-01-01",
    "x" * 10_000,
    "last week " * 1000,
    "between " * 1200 + "May",
    "the 8th of " * 900,
    "\u0130" * 5000 + " yesterday",
    "\n\t " * 3000 + "last week",
    "🎉 party last Saturday 🎉",
]


@pytest.mark.parametrize(
    "now", [WED, LEAP, datetime.min, datetime.max, datetime(9999, 12, 31), WED.replace(tzinfo=NEW_YORK)]
)
@pytest.mark.parametrize("text", ODD)
def test_odd_input_never_raises(text: str, now: datetime) -> None:
    window = parse_window(text, now)
    assert window is None or (window.start < window.end and window.start.tzinfo is now.tzinfo)


@pytest.mark.parametrize("text", ["1000000 years ago", "100000000000000000000000 days ago", "99/99/9999", "in 0001"])
def test_outside_the_calendar_is_no_window(text: str) -> None:
    assert parse_window(text, WED) is None


def test_the_expression_is_the_words_read() -> None:
    # The extractor strips it from a fact's object: it must be the text as written, lower-cased.
    window = parse_window("I moved to Porto since  March, loved it", WED)
    assert window is not None and window.expression == "since  march"


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("the first time I went hiking", -1),
        ("what did I originally plan", -1),
        ("my most recent trip", 1),
        ("what is my latest score", 1),
        ("where do I live now", 1),
        ("what have I been reading recently", 1),
        ("which service did I start using most recently", 1),
        ("what did I say last?", 1),
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
    # "recently" is no window but a wish for the latest.
    assert time_boost(occurred, scores, "my trip recently", NOW, 0.5).tolist() == [1.25, 1.0]


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
