"""Time expressions in a query, resolved against the query's own "now".

``parse_window("what did I do last Saturday?", now)`` gives the day of last
Saturday; "two weeks ago" the week around that point; "in May 2023" that
month; "in May" the latest May not after now. Recall then favours episodes
that happened inside the window. Ordering cues ("the first time", "most
recently") are read as a preference for the earliest or latest evidence.
Pure functions with no state, so a table of expressions can test them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple of": 2,
    "couple": 2,
    "few": 3,
    "several": 3,
}
_NUM = (
    r"(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|a couple of|couple of|a couple|a few|few|several)"
)
_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}


@dataclass(frozen=True)
class TimeWindow:
    """A span of time a query points at: ``[start, end)``, and how it was read."""

    start: datetime
    end: datetime
    expression: str


def _num(text: str) -> int:
    text = text.lower()
    if text not in ("a", "an"):
        text = text.removeprefix("a ")
    return int(text) if text.isdigit() else NUMBERS.get(text, 1)


def _day(dt: datetime) -> datetime:
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_span(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1)
    end = datetime(year + (month == 12), month % 12 + 1, 1)
    return start, end


def _rules(now: datetime) -> list[tuple[re.Pattern[str], object]]:
    today = _day(now)

    def ago(m: re.Match[str]) -> tuple[datetime, datetime]:
        n, unit = _num(m[1]), _UNITS[m[2]]
        centre = today - timedelta(days=n * unit)
        half = max(1, unit // 2) if unit > 1 else 1  # "3 days ago" is about a day; "2 weeks ago" about a week
        return centre - timedelta(days=half), centre + timedelta(days=half + 1)

    def past(m: re.Match[str]) -> tuple[datetime, datetime]:
        n = _num(m[1]) if m[1] else 1
        return today - timedelta(days=n * _UNITS[m[2]]), today + timedelta(days=1)

    def last_unit(m: re.Match[str]) -> tuple[datetime, datetime]:
        unit = m[1]
        if unit == "week":
            monday = today - timedelta(days=today.weekday())
            return monday - timedelta(days=7), monday
        if unit == "month":
            first = today.replace(day=1)
            prev = first - timedelta(days=1)
            return _month_span(prev.year, prev.month)
        return datetime(today.year - 1, 1, 1), datetime(today.year, 1, 1)

    def this_unit(m: re.Match[str]) -> tuple[datetime, datetime]:
        unit = m[1]
        if unit == "week":
            monday = today - timedelta(days=today.weekday())
            return monday, monday + timedelta(days=7)
        if unit == "month":
            return _month_span(today.year, today.month)
        return datetime(today.year, 1, 1), datetime(today.year + 1, 1, 1)

    def weekday(m: re.Match[str]) -> tuple[datetime, datetime]:
        # "last Saturday" and "on Saturday" both mean the latest one before today.
        day = today - timedelta(days=(today.weekday() - WEEKDAYS[m[2]]) % 7 or 7)
        return day, day + timedelta(days=1)

    def month_year(m: re.Match[str]) -> tuple[datetime, datetime]:
        return _month_span(int(m[2]), MONTHS[m[1]])

    def month_only(m: re.Match[str]) -> tuple[datetime, datetime]:
        month = MONTHS[m[1]]
        year = today.year if month <= today.month else today.year - 1
        return _month_span(year, month)

    def day_month(m: re.Match[str], day: str, month: str, year: str | None) -> tuple[datetime, datetime]:
        mo, d = MONTHS[month], int(day)
        y = int(year) if year else (today.year if (mo, d) <= (today.month, today.day) else today.year - 1)
        try:
            start = datetime(y, mo, d)
        except ValueError:
            return _month_span(y, mo)
        return start, start + timedelta(days=1)

    def year(m: re.Match[str]) -> tuple[datetime, datetime]:
        return datetime(int(m[1]), 1, 1), datetime(int(m[1]) + 1, 1, 1)

    def year_to_date() -> tuple[datetime, datetime]:
        return datetime(today.year, 1, 1), today + timedelta(days=1)

    def fixed(days_back: int, span: int = 1):  # type: ignore[no-untyped-def]
        return lambda m: (today - timedelta(days=days_back), today - timedelta(days=days_back - span))

    return [
        (re.compile(rf"\b{_NUM} (day|week|month|year)s? ago\b"), ago),
        # "the past month" and "the last 3 weeks" reach back from today; "last month" is the calendar month.
        (re.compile(rf"\b(?:in |over |during )?(?:the )?(?:past|last) {_NUM} (day|week|month|year)s\b"), past),
        (re.compile(rf"\b(?:in |over |during )?the (?:past|last) (?:{_NUM} )?(day|week|month|year)s?\b(?! of)"), past),
        (re.compile(r"\b(?:last|past|previous) (week|month|year)\b(?! of)"), last_unit),
        (re.compile(r"\bthis (week|month|year)\b"), this_unit),
        (re.compile(r"\b(last|this|on) (" + "|".join(WEEKDAYS) + r")\b"), weekday),
        (re.compile(rf"\b{_DAY} (?:of )?{_MONTH},? (\d{{4}})\b"), lambda m: day_month(m, m[1], m[2], m[3])),
        (re.compile(rf"\b{_MONTH} {_DAY},? (\d{{4}})\b"), lambda m: day_month(m, m[2], m[1], m[3])),
        (re.compile(rf"\b{_MONTH},? (\d{{4}})\b"), month_year),
        (re.compile(rf"\b{_DAY} (?:of )?{_MONTH}\b"), lambda m: day_month(m, m[1], m[2], None)),
        (re.compile(rf"\b{_MONTH} {_DAY}\b"), lambda m: day_month(m, m[2], m[1], None)),
        (re.compile(rf"\b(?:in|during|around|early|late|mid) {_MONTH}\b"), month_only),
        (re.compile(r"\b(?:in|during|of) ((?:19|20)\d{2})\b"), year),
        (re.compile(r"\byesterday\b"), fixed(1)),
        (re.compile(r"\blast night\b"), fixed(1)),
        # "before today" and "as of today" bound a question's time, they do not point at today.
        (re.compile(r"(?<!before )(?<!until )(?<!as of )(?<!up to )(?<!prior to )\btoday\b"), fixed(0)),
        (re.compile(r"\b(?:this morning|this afternoon|tonight)\b"), fixed(0)),
        (re.compile(r"\bday before yesterday\b"), fixed(2)),
        (re.compile(r"\b(?:last|(?:this |the )?past|over the) weekend\b"), lambda m: _weekend(today)),
        (re.compile(r"\bsince the (?:start|beginning) of (?:the|this) year\b"), lambda m: year_to_date()),
        (re.compile(r"\brecently|lately\b"), fixed(30, 31)),
    ]


def _weekend(today: datetime) -> tuple[datetime, datetime]:
    saturday = today - timedelta(days=(today.weekday() - 5) % 7 or 7)
    return saturday, saturday + timedelta(days=2)


def parse_window(text: str, now: datetime) -> TimeWindow | None:
    """The first time expression in ``text`` as a window, or ``None``.

    Times are naive or aware alike: the result carries ``now``'s tzinfo.

    >>> w = parse_window("What did I buy two weeks ago?", datetime(2023, 5, 30))
    >>> (w.start.date().isoformat(), w.end.date().isoformat())
    ('2023-05-13', '2023-05-20')
    """
    lowered = text.lower()
    naive = now.replace(tzinfo=None)
    best: tuple[int, int, TimeWindow] | None = None
    for pattern, rule in _rules(naive):
        m = pattern.search(lowered)
        # The most specific reading wins: "in May 2023" over "in May".
        if m and (best is None or (len(m[0]), -m.start()) > (best[0], best[1])):
            try:
                start, end = rule(m)  # type: ignore[operator]
            except (OverflowError, ValueError):  # "5000 years ago", "in year 0": outside the calendar
                continue
            window = TimeWindow(start.replace(tzinfo=now.tzinfo), end.replace(tzinfo=now.tzinfo), m[0])
            best = (len(m[0]), -m.start(), window)
    return best[2] if best else None


_FIRST = re.compile(r"\b(first|earliest|initially|originally|at first|began|started)\b")
_LAST = re.compile(r"\b(most recent(?:ly)?|latest|last time|currently|now|these days|lately|recently|anymore)\b")


def order_preference(text: str) -> int:
    """-1 if the query asks for the earliest evidence, +1 for the latest, 0 for neither."""
    lowered = text.lower()
    first, last = bool(_FIRST.search(lowered)), bool(_LAST.search(lowered))
    return 0 if first == last else (-1 if first else 1)


def window_weights(occurred: np.ndarray, window: TimeWindow, *, margin_days: float = 3.0) -> np.ndarray:
    """1 inside the window, falling off linearly to 0 at ``margin_days`` outside it."""
    start, end = window.start.timestamp(), window.end.timestamp()
    outside = np.maximum(start - occurred, 0) + np.maximum(occurred - end, 0)
    return np.clip(1.0 - outside / (margin_days * 86400.0), 0.0, 1.0)


def time_boost(occurred: np.ndarray, scores: np.ndarray, query: str, now: datetime, weight: float) -> np.ndarray:
    """Scores raised for candidates inside the query's time window, or in the
    direction of its ordering cue (earliest or latest)."""
    if not weight or not len(scores):
        return scores
    window = parse_window(query, now)
    if window is not None:
        return scores * (1.0 + weight * window_weights(occurred, window))
    towards = order_position(occurred, order_preference(query))
    if towards is not None:
        return np.asarray(scores * (1.0 + 0.5 * weight * towards))
    return scores


def order_position(occurred: np.ndarray, direction: int) -> np.ndarray | None:
    """Each time's place between the earliest and latest, 0..1 towards the end
    ``direction`` asks for (+1 latest, -1 earliest); ``None`` for no cue or one time.

    >>> order_position(np.array([0.0, 5.0, 10.0]), -1).tolist()
    [1.0, 0.5, 0.0]
    """
    if not direction or not len(occurred) or occurred.max() <= occurred.min():
        return None
    position = (occurred - occurred.min()) / (occurred.max() - occurred.min())
    return np.asarray(position if direction > 0 else 1.0 - position, dtype=np.float64)
