"""Time expressions in a query, resolved against the query's own "now".

``parse_window("what did I do last Saturday?", now)`` gives the day of last
Saturday; "two weeks ago" the week around that point; "in May 2023" that
month; "in May" the latest May not after now. Recall then favours episodes
that happened inside the window. Ordering cues ("the first time", "most
recently") are read as a preference for the earliest or latest evidence.
Pure functions with no state, so a table of expressions can test them.

Windows are whole days, ``[start, end)``, in ``now``'s own wall time (an
aware ``now`` gives aware windows). Where several expressions are found the
longest wins, then the first. The readings chosen where English is ambiguous:

- A time named without a year ("in May", "on 8 May", "at Christmas", "in the
  summer", "late May") is the latest one that has begun by today, and a past
  window is cut at the end of today: "in May" asked on 10 May is 1-10 May.
  "29 February" without a year is the latest leap day; a day that never
  exists ("February 30") is its month.
- "last Saturday" and "on Saturday" are the latest Saturday before today;
  "this Saturday" is the one of the current Monday-Sunday week; "next
  Saturday" the first one after today (said on a Wednesday, the same day as
  "this Saturday"). "last weekend" is the latest weekend that has ended (said
  on a Sunday, the one before). Months, seasons and holidays read the same
  way: "last May" is the latest May that has ended. "this May" is not read
  ("This may sound odd"); "in May" is.
- "last week/month/year" is the calendar unit before this one (weeks start on
  Monday); "the past week", "this past week" and "the last 3 weeks" reach
  back from today; "N days/weeks/months ago" is about one unit around that
  point.
- "recently" and "lately" give no window: how far back they reach depends on
  the user's history, so :func:`order_preference` reads them as a wish for
  the latest evidence (a fixed 30 days also dated facts said "recently").
- Numeric dates are US order, month/day/year, where both orders could be
  meant ("5/8/2023" is 8 May, "5/02/2020" 2 May); a first number over 12 can
  only be a day ("25/02/2020" is 25 February). ISO dates ("2023-05-08") too.
  Without a year ("5/8") they are fractions or scores, not dates.
- Seasons are the northern meteorological ones (spring is March-May, winter
  December-February); "winter 2022" is the one that starts in December 2022.
- Holidays: Christmas (Eve), New Year's (Eve), Easter Sunday, Halloween,
  Valentine's Day, the Fourth of July ("4th of July" is that date anyway),
  the days dated from Easter or Thanksgiving that are named after a weekday
  (Good Friday, Easter Monday, Black Friday, Cyber Monday and the like), and
  the US days set by a rule or a date (Thanksgiving, Mother's and Father's
  Day, Memorial and Labor Day, MLK and Presidents' Day, the Super Bowl,
  Veterans Day, St. Patrick's Day, Juneteenth and a few more; the UK's
  Mothering Sunday and Boxing Day too). Each is one day, and "<holiday>
  weekend" is the day with the weekend nearest it ("Memorial Day weekend"
  is Saturday to Monday). They count only after "on", "at", "over",
  "during", "around", "last", "this", "since" and the like: "for Christmas"
  and "Christmas tree" name a purpose, not a time. "around Easter" is Easter
  Sunday; the recall margin covers "around".
- "since X" and "after X" run up to today; "between X and Y" and "from X to
  Y" span both. "before X" and "until X" bound a question rather than point
  at a time, so they give no window (nor do "before today", "as of today").
  "as of December 2023" asks about the state then: December 2023.
- Counted back from a named date ("two weeks before August 11", "the Sunday
  before October 25", "the week before 16 November"), a window runs on to the
  end of that date: the date is named because something was said or known
  then, and episodes carry the time they were said.
- Events ("before I moved"), vague times ("a while ago", "the other day"),
  and "in 3 days" (also a duration: "I read it in 3 days") give no window. A
  decade needs "in" or the like ("in the 1990s"; "a book from the 1960s"
  dates the book). Explicit years are read from 1900 to 2099, and not where
  a unit or a currency follows: "in 2000 words", "a history of 2000 years",
  "in 2000-word chunks" and "in 2000$" are counts. People are a count only
  after "of" ("a crowd of 2000 people"); "In 2020 people stayed home" is the
  year.
- A weekday inside a name is no weekday: days of the year named after one
  ("Black Friday", "Good Friday", "Cyber Monday", "Super Bowl Sunday", which
  read as holidays) and titles ("Monday Night Football", in any
  case, or a capitalised time word and word: "Saturday Night Fever"). A
  capitalised word before or after a weekday is more often a person ("On
  Monday Alice called", "I saw Bob Friday night"), so it is no sign; nor is
  a lower-case word after "Monday Night": "Tuesday Morning store" is a time.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

Span = tuple[datetime, datetime]

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
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "couple of": 2,
    "couple": 2,
    "few": 3,
    "several": 3,
}
_ORDINAL_WORDS = [
    *("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"),
    *("eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth"),
    *("eighteenth", "nineteenth", "twentieth"),
]
ORDINALS = {word: i for i, word in enumerate(_ORDINAL_WORDS, 1)}
ORDINALS.update({f"twenty-{word}": 20 + i for i, word in enumerate(_ORDINAL_WORDS[:9], 1)})
ORDINALS.update({"thirtieth": 30, "thirty-first": 31})
SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}  # the month each begins
_UNITS = {"day": 1, "week": 7, "fortnight": 14, "month": 30, "year": 365}


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first so "a couple of" wins over "a"."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# Digits capped at 9: a 5000-digit number would not even convert to int.
_NUM = rf"(?:\d{{1,9}}|(?:a )?(?:{_alternatives(NUMBERS)}))"
_UNIT = r"(?:day|week|fortnight|month|year)"
_MONTH = rf"(?:{_alternatives(MONTHS)})\.?"
_WEEKDAY = rf"(?:{_alternatives(WEEKDAYS)})"
_SEASON = rf"(?:{_alternatives(SEASONS)})"
# A number before a unit or a currency is a count, not a year: "in 2000 words", "a history of
# 2000 years", "in 2000-word chunks", "in 2000$". A singular unit counts only after a hyphen and a
# currency sign only right after: "In 2020 word got out" and "In 2020 $5 was a lot" are the year.
# People are a count only after "of" (_CROWD): "a crowd of 2000 people", but "In 2020 people
# stayed home".
_COUNT_UNIT = (
    r"(?:word|step|calorie|character|token|page|point|view|like|follower|subscriber|download|dollar|buck"
    r"|euro|pound|rupee|mile|kilomet(?:er|re)|met(?:er|re)|yard|kilo|gram|lit(?:er|re)|acre|rep|lap"
    r"|second|minute|hour|day|week|month|year|decade)"
)
_COUNT_ABBR = r"(?:kcal|km|kms|ft|kg|kgs|lbs?|mg|ml|usd|eur|gbp)"
_COUNT = rf"(?: {_COUNT_UNIT}s| feet| centuries|[ -]{_COUNT_ABBR}|-{_COUNT_UNIT}|-foot|-century)\b|[$€£¥%]"
_CROWD = (
    r"(?:people|persons|guests|visitors|attendees|fans|students|members|employees|users|participants"
    r"|customers|kids|children|men|women|runners|players)"
)
_YEAR = rf"(?:19|20)\d{{2}}(?!{_COUNT})"
_DAYNUM = r"\d{1,2}(?:st|nd|rd|th)?"
_ORDINAL = rf"(?:{_alternatives(ORDINALS)}|twenty (?:{_alternatives(_ORDINAL_WORDS[:9])})|thirty first)"
_PART = r"(?:early|mid|middle of|late|beginning of|start of|end of)"


def _easter(year: int) -> datetime:
    """Easter Sunday (the anonymous Gregorian computus)."""
    a, (b, c) = year % 19, divmod(year, 100)
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return datetime(year, month, day + 1)


def _nth_weekday(month: int, weekday: int, n: int) -> Callable[[int], datetime]:
    """The ``n``-th ``weekday`` (0 is Monday) of ``month`` in a year; the last one for ``n`` -1."""

    def day(year: int) -> datetime:
        if n < 0:
            last = datetime(year, month, calendar.monthrange(year, month)[1])
            return last - timedelta(days=(last.weekday() - weekday) % 7)
        first = datetime(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

    return day


_thanksgiving = _nth_weekday(11, 3, 4)  # the US holiday: the fourth Thursday of November


def _super_bowl(year: int) -> datetime:
    """The second Sunday of February since the 17-game season (2022), the first before.

    Before 2004 some fell in late January; those years read as the first Sunday of February.
    """
    return _nth_weekday(2, 6, 2 if year >= 2022 else 1)(year)


def _fixed(month: int, day: int) -> Callable[[int], datetime]:
    return lambda year: datetime(year, month, day)


def _named_day(name: str, weekday: str) -> str:
    """A day of the year named after a weekday, as it reads before or after the weekday
    inside it is masked (``_mask_names``: "black friday" reads "black FRIDAY")."""
    return rf"{name} (?:{weekday}|{weekday.upper()})"


def _after(day: Callable[[int], datetime], days: int) -> Callable[[int], datetime]:
    return lambda year: day(year) + timedelta(days=days)


HOLIDAYS: list[tuple[str, Callable[[int], datetime]]] = [
    # Days named after a weekday come first: "easter monday" must not stop at "easter".
    (_named_day("(?:shrove|fat)", "tuesday"), _after(_easter, -47)),
    (_named_day("ash", "wednesday"), _after(_easter, -46)),
    (_named_day("palm", "sunday"), _after(_easter, -7)),
    (_named_day("(?:holy|maundy)", "thursday"), _after(_easter, -3)),
    (_named_day("good", "friday"), _after(_easter, -2)),
    (_named_day("holy", "saturday"), _after(_easter, -1)),
    (_named_day("easter", "monday"), _after(_easter, 1)),
    (_named_day("whit", "sunday"), _after(_easter, 49)),
    (_named_day("whit", "monday"), _after(_easter, 50)),
    (_named_day("black", "friday"), _after(_thanksgiving, 1)),
    (_named_day("small business", "saturday"), _after(_thanksgiving, 2)),
    (_named_day("cyber", "monday"), _after(_thanksgiving, 4)),
    (_named_day("giving", "tuesday"), _after(_thanksgiving, 5)),
    (_named_day("super bowl", "sunday"), _super_bowl),
    (_named_day("mothering", "sunday"), _after(_easter, -21)),  # the UK's Mother's Day
    (r"(?:christmas|xmas) eve", _fixed(12, 24)),
    (r"(?:christmas|xmas)(?: day)?", _fixed(12, 25)),
    (r"new year'?s eve", _fixed(12, 31)),
    (r"new year'?s(?: day)?", _fixed(1, 1)),
    (r"easter(?: sunday)?", _easter),
    (r"halloween", _fixed(10, 31)),
    (r"valentine'?s(?: day)?", _fixed(2, 14)),
    (r"thanksgiving(?: day)?", _thanksgiving),
    (r"independence day|(?:the )?fourth of july", _fixed(7, 4)),
    # US days unless named otherwise, as Thanksgiving is.
    (r"super bowl", _super_bowl),
    (r"mother'?s'? day", _nth_weekday(5, 6, 2)),
    (r"father'?s'? day", _nth_weekday(6, 6, 3)),
    (r"memorial day", _nth_weekday(5, 0, -1)),
    (r"labou?r day", _nth_weekday(9, 0, 1)),
    (r"(?:martin luther king|mlk)(?: jr\.?)? day", _nth_weekday(1, 0, 3)),
    (r"presidents'? day|president'?s day|washington'?s birthday", _nth_weekday(2, 0, 3)),
    (r"columbus day|indigenous peoples'? day", _nth_weekday(10, 0, 2)),
    (r"veterans'? day|armistice day|remembrance day", _fixed(11, 11)),
    (r"(?:st\.?|saint) (?:patrick|paddy)'?s day", _fixed(3, 17)),
    (r"april fool'?s'? day", _fixed(4, 1)),
    (r"cinco de mayo", _fixed(5, 5)),
    (r"juneteenth", _fixed(6, 19)),
    (r"boxing day", _fixed(12, 26)),
]
# "Memorial Day weekend" is the holiday with the weekend nearest it (``_with_weekend``).
_HOLIDAY = "(?:(?:" + "|".join(p for p, _ in HOLIDAYS) + ")(?: weekend)?)"


@dataclass(frozen=True)
class TimeWindow:
    """A span of time a query points at: ``[start, end)``, and how it was read."""

    start: datetime
    end: datetime
    expression: str


@dataclass(frozen=True)
class _Now:
    """The moment an expression is read at (naive wall time) and its day."""

    now: datetime
    today: datetime
    tomorrow: datetime


@dataclass(frozen=True)
class _Recurring:
    """A time that comes round again (May, Christmas, Saturday): ``at(k)`` is its
    span in the k-th year, month or week from today's; ``None`` where it does not
    exist (29 February in 2023)."""

    at: Callable[[int], Span | None]
    strict: bool = False  # "on Saturday" is the last one before today, never today itself


Anchor = Span | _Recurring
# Periods searched for a recurring time: 29 February comes round every 4 years.
_PERIODS = range(-12, 3)


def _num(text: str) -> int:
    text = text.lower()
    if text not in ("a", "an"):
        text = text.removeprefix("a ")
    return int(text) if text.isdigit() else NUMBERS.get(text, 1)


def _day(dt: datetime) -> datetime:
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_span(year: int, month: int, months: int = 1) -> Span:
    """``months`` calendar months from the first of ``month``; months past 12 run into the next year."""
    y, m = divmod(month - 1 + months, 12)
    return datetime(year, month, 1), datetime(year + y, m + 1, 1)


def _on(year: int, month: int, day: int) -> Span | None:
    """One day; the month when the day does not exist ("February 30"), None for no month."""
    if not 1 <= month <= 12:
        return None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return _month_span(year, month)
    start = datetime(year, month, day)
    return start, start + timedelta(days=1)


def _unit(unit: str, k: int, at: _Now) -> Span:
    """The calendar week (Monday first), month or year ``k`` units from today's."""
    today = at.today
    if unit == "week":
        start = today - timedelta(days=today.weekday() - 7 * k)
        return start, start + timedelta(days=7)
    if unit == "month":
        y, m = divmod(today.month - 1 + k, 12)
        return _month_span(today.year + y, m + 1)
    return datetime(today.year + k, 1, 1), datetime(today.year + k + 1, 1, 1)


# Choosing one occurrence of a recurring time.


def _spans(r: _Recurring) -> list[tuple[int, Span]]:
    return [(k, s) for k in _PERIODS if (s := r.at(k)) is not None]


def _latest(r: _Recurring, at: _Now) -> Span | None:
    """The latest that has begun by today ("in May"), cut at the end of today."""
    started = [s for _, s in _spans(r) if s[0] <= at.today]
    return (started[-1][0], min(started[-1][1], at.tomorrow)) if started else None


def _last(r: _Recurring, at: _Now, n: int = 1) -> Span | None:
    """The latest that has ended ("last May", "on Saturday"); n=2 the one before it."""
    ended = [k for k, s in _spans(r) if s[1] <= at.today]
    return r.at(ended[-1] - n + 1) if ended else None


def _this(r: _Recurring, at: _Now) -> Span | None:
    """The one under way ("this winter"), else the one of this year or week ("this Saturday")."""
    now = [s for _, s in _spans(r) if s[0] <= at.today < s[1]]
    return now[0] if now else r.at(0)


def _next(r: _Recurring, at: _Now) -> Span | None:
    """The first that begins after today ("next May", "next Saturday")."""
    return next((s for _, s in _spans(r) if s[0] > at.today), None)


def _pick(anchor: Anchor | None, at: _Now) -> Span | None:
    if anchor is None or isinstance(anchor, tuple):
        return anchor
    return _last(anchor, at) if anchor.strict else _latest(anchor, at)


def _map(anchor: Anchor | None, f: Callable[[Span], Span | None]) -> Anchor | None:
    """``f`` applied to a span, or to each occurrence of a recurring time (so "late May"
    on 17 May is late May of last year: this year's has not begun)."""
    if anchor is None or isinstance(anchor, tuple):
        return f(anchor) if anchor else None
    at = anchor.at
    return _Recurring(lambda k: (s := at(k)) and f(s), anchor.strict)


def _yearly(f: Callable[[int], Span | None], at: _Now) -> _Recurring:
    """A time that comes once a year, ``f(year)``."""
    return _Recurring(lambda k: f(at.today.year + k))


def _weekly(day: int, at: _Now, length: int = 1) -> _Recurring:
    """A weekday (0 is Monday) or, from Saturday for two days, the weekend."""
    monday = at.today - timedelta(days=at.today.weekday())

    def span(k: int) -> Span:
        start = monday + timedelta(days=7 * k + day)
        return start, start + timedelta(days=length)

    return _Recurring(span, strict=True)


def _int(digits: str) -> int:
    """The number an ordinal starts with: "8th" is 8."""
    return int(re.sub(r"\D", "", digits))


# Anchors: the times a range or a part can be taken of ("May", "last year", "8 May 2023").
# Each resolves to a span or a recurring time; patterns use named groups.


def _part(span: Span, part: str) -> Span:
    """Early/mid/late: thirds of a year or season by months, of a month by ten days;
    the beginning or end: the first or last month of a year or season, week of a month."""
    start, end = span
    days = (end - start).days
    part = part.split()[0]
    if days >= 84:
        months = round(days / 30.4)
        third = months // 3
        first, count = {
            "early": (0, third),
            "mid": (third, third),
            "middle": (third, third),
            "late": (2 * third, months - 2 * third),
            "beginning": (0, 1),
            "start": (0, 1),
            "end": (months - 1, 1),
        }[part]
        y, m = divmod(start.month - 1 + first, 12)
        return _month_span(start.year + y, m + 1, count)
    if days >= 28:
        ten = timedelta(days=10)
        week = timedelta(days=7)
        return {
            "early": (start, start + ten),
            "mid": (start + ten, start + 2 * ten),
            "middle": (start + ten, start + 2 * ten),
            "late": (start + 2 * ten, end),
            "beginning": (start, start + week),
            "start": (start, start + week),
            "end": (end - week, end),
        }[part]
    return span  # "the end of the week" is the week


def _with_weekend(day: datetime) -> Span:
    """``day`` and the weekend nearest it: "Memorial Day weekend" is Saturday to Monday,
    "Thanksgiving weekend" Thursday to Sunday (a Wednesday takes the weekend after it)."""
    saturday = day + timedelta(days=(-2, -3, 3, 2, 1, 0, -1)[day.weekday()])
    return min(day, saturday), max(day, saturday + timedelta(days=1)) + timedelta(days=1)


def _holiday(name: str) -> Callable[[int], Span]:
    holiday, weekend = name.removesuffix(" weekend"), name.endswith(" weekend")
    day = next(f for p, f in HOLIDAYS if re.fullmatch(p, holiday))

    def span(year: int) -> Span:
        start = day(year)
        return _with_weekend(start) if weekend else (start, start + timedelta(days=1))

    return span


def _season(name: str) -> Callable[[int], Span]:
    return lambda year: _month_span(year, SEASONS[name], 3)


def _us_date(m: re.Match[str], at: _Now) -> Span | None:
    month, day, year = int(m["mo"]), int(m["d"]), int(m["y"])
    if month > 12 >= day:  # only a day can be over 12: "25/12/2023"
        month, day = day, month
    if len(m["y"]) == 2:  # "5/8/23"; a two-digit year still to come is no date ("the 10/20/30 rule")
        year += 2000
        if year > at.today.year:
            return None
    return _on(year, month, day)


def _named(m: re.Match[str], at: _Now) -> Span | None:
    """A recurring time named relative to today: "last May", "this Saturday", "next Christmas"."""
    name = m["name"].rstrip(".")
    if name in WEEKDAYS or name == "weekend":
        r = _weekly(5, at, 2) if name == "weekend" else _weekly(WEEKDAYS[name], at)
    elif name in MONTHS:
        r = _yearly(lambda y: _month_span(y, MONTHS[name]), at)
    elif name in SEASONS:
        r = _yearly(_season(name), at)
    else:
        r = _yearly(_holiday(name), at)
    rel = m["rel"]
    if rel == "this":
        return _this(r, at)
    return _next(r, at) if rel in ("next", "this coming") else _last(r, at)


def _days(m: re.Match[str], at: _Now) -> Span:
    back = {
        "the day before yesterday": 2,
        "day before yesterday": 2,
        "the night before last": 2,
        "yesterday": 1,
        "last night": 1,
        "tomorrow": -1,
        "the day after tomorrow": -2,
    }.get(m[0], 0)
    start = at.today - timedelta(days=back)
    return start, start + timedelta(days=1)


AnchorRule = Callable[[re.Match[str], _Now], Anchor | None]

# Self-standing anchors: each names a time by itself. Most specific first (regex
# alternation takes the first alternative that fits, not the longest).
_SELF: list[tuple[str, AnchorRule]] = [
    (
        rf"(?:the )?(?P<d>{_DAYNUM}) (?:of )?(?P<mo>{_MONTH}),? (?P<y>{_YEAR})",
        lambda m, at: _on(int(m["y"]), MONTHS[m["mo"].rstrip(".")], _int(m["d"])),
    ),
    (
        rf"(?P<mo>{_MONTH}) (?:the )?(?P<d>{_DAYNUM}),? (?P<y>{_YEAR})",
        lambda m, at: _on(int(m["y"]), MONTHS[m["mo"].rstrip(".")], _int(m["d"])),
    ),
    (
        rf"(?:the )?(?P<w>{_ORDINAL}) of (?P<mo>{_MONTH}),? (?P<y>{_YEAR})",
        lambda m, at: _on(int(m["y"]), MONTHS[m["mo"].rstrip(".")], ORDINALS[m["w"].replace(" ", "-")]),
    ),
    # ISO dates; numeric dates read month first (US), see the module docstring.
    (r"(?P<y>\d{4})[-/](?P<mo>\d{1,2})[-/](?P<d>\d{1,2})", lambda m, at: _on(int(m["y"]), int(m["mo"]), int(m["d"]))),
    (r"(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}|\d{2})", _us_date),
    (
        rf"(?P<mo>{_MONTH}),? (?:of )?(?P<y>{_YEAR})",
        lambda m, at: _month_span(int(m["y"]), MONTHS[m["mo"].rstrip(".")]),
    ),
    (rf"(?:the )?(?P<s>{_SEASON}),? (?:of )?(?P<y>{_YEAR})", lambda m, at: _season(m["s"])(int(m["y"]))),
    (rf"(?P<h>{_HOLIDAY}),? (?:of )?(?P<y>{_YEAR})", lambda m, at: _holiday(m["h"])(int(m["y"]))),
    # Without a year: the latest such day, which for 29 February may be years back.
    (
        rf"(?:the )?(?P<d>{_DAYNUM}) (?:of )?(?P<mo>{_MONTH})",
        lambda m, at: _day_of(MONTHS[m["mo"].rstrip(".")], _int(m["d"]), at),
    ),
    (
        rf"(?:the )?(?P<w>{_ORDINAL}) of (?P<mo>{_MONTH})",
        lambda m, at: _day_of(MONTHS[m["mo"].rstrip(".")], ORDINALS[m["w"].replace(" ", "-")], at),
    ),
    (
        rf"(?P<mo>{_MONTH}) (?:the )?(?P<d>{_DAYNUM})",
        lambda m, at: _day_of(MONTHS[m["mo"].rstrip(".")], _int(m["d"]), at),
    ),
    # "This may sound odd": "this May" is left to "in May".
    (
        rf"(?!this may\b)(?P<rel>this past|the past|this coming|past|last|this|next)"
        rf" (?P<name>{_MONTH}|{_SEASON}|{_HOLIDAY}|{_WEEKDAY}|weekend)",
        _named,
    ),
    # "the last week of the course" is a week of something, not last week.
    (
        r"(?P<rel>last|previous|prior|this|current|next) (?P<u>week|month|year)(?! of)",
        lambda m, at: _unit(m["u"], {"last": -1, "previous": -1, "prior": -1, "next": 1}.get(m["rel"], 0), at),
    ),
    (
        r"the day before yesterday|day before yesterday|the night before last|the day after tomorrow|yesterday|today"
        r"|tonight|tomorrow"
        r"|last night|this (?:morning|afternoon|evening)",
        _days,
    ),
]


def _day_of(month: int, day: int, at: _Now) -> _Recurring:
    if day > calendar.monthrange(2000, month)[1] or day < 1:  # never exists ("February 30"): the month
        return _yearly(lambda y: _month_span(y, month), at)
    return _yearly(lambda y: _on(y, month, day) if day <= calendar.monthrange(y, month)[1] else None, at)


# Bare anchors: a month, year, season, holiday or weekday alone names a time only
# where something licenses it ("in May", "since 2019", "on Saturday"): "May I ask",
# "2020 photos", "Christmas tree" and "Sunday school" are not times.
_BARE: list[tuple[str, AnchorRule]] = [
    (rf"(?P<y>{_YEAR})", lambda m, at: (datetime(int(m["y"]), 1, 1), datetime(int(m["y"]) + 1, 1, 1))),
    (rf"(?P<mo>{_MONTH})", lambda m, at: _yearly(lambda y: _month_span(y, MONTHS[m["mo"].rstrip(".")]), at)),
    (rf"(?P<s>{_SEASON})(?! of\b)", lambda m, at: _yearly(_season(m["s"]), at)),
    (rf"(?P<h>{_HOLIDAY})", lambda m, at: _yearly(_holiday(m["h"]), at)),
    (rf"(?P<wd>{_WEEKDAY})", lambda m, at: _weekly(WEEKDAYS[m["wd"]], at)),
    (r"weekend", lambda m, at: _weekly(5, at, 2)),
    # "in the 1990s"; "a book from the 1960s" dates the book, not an event.
    (r"the (?P<dec>(?:19|20)\d)0s", lambda m, at: _month_span(int(m["dec"]) * 10, 1, 120)),
    (r"the (?P<u>week|month|year)", lambda m, at: _unit(m["u"], 0, at)),
    (
        r"the (?P<d>\d{1,2})(?:st|nd|rd|th)",
        lambda m, at: _Recurring(lambda k: _nth_of_month(int(m["d"]), k, at)),
    ),
]


def _nth_of_month(day: int, k: int, at: _Now) -> Span | None:
    y, mo = divmod(at.today.month - 1 + k, 12)
    year = at.today.year + y
    if not 1 <= day <= calendar.monthrange(year, mo + 1)[1]:
        return None
    start = datetime(year, mo + 1, day)
    return start, start + timedelta(days=1)


def _plain(pattern: str) -> str:
    """``pattern`` with its named groups made non-capturing, to be one alternative of many."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


_SELF_RE = "|".join(_plain(p) for p, _ in _SELF)
_BASE_RE = f"{_SELF_RE}|" + "|".join(_plain(p) for p, _ in _BARE)
_COMPOUND: list[tuple[str, AnchorRule]] = [
    # "early May", "mid-2022", "the end of last year", "the beginning of the month".
    (
        rf"(?:the )?(?P<part>{_PART})[ -](?:the )?(?P<a>{_BASE_RE})",
        lambda m, at: _map(_resolve(m["a"], at), lambda s: _part(s, m["part"])),
    ),
    # "the first week of June", "the last week of May", "the week of May 8".
    (
        rf"the (?:(?P<i>first|second|third|fourth|last) )?week of (?:the )?(?P<a>{_BASE_RE})",
        lambda m, at: _map(_resolve(m["a"], at), lambda s: _week_of(s, m["i"])),
    ),
]
_ANCHORS = [(re.compile(p), f) for p, f in [*_COMPOUND, *_SELF, *_BARE]]
_ANCHOR_RE = "|".join(_plain(p) for p, _ in _COMPOUND) + f"|{_BASE_RE}"
_STANDALONE_RE = "|".join(_plain(p) for p, _ in _COMPOUND) + f"|{_SELF_RE}"


def _week_of(span: Span, which: str | None) -> Span:
    start, end = span
    if which is None:  # the Monday-Sunday week around a day
        start -= timedelta(days=start.weekday())
        return start, start + timedelta(days=7)
    if which == "last":
        return end - timedelta(days=7), end
    start += timedelta(days=7 * ["first", "second", "third", "fourth"].index(which))
    return start, min(start + timedelta(days=7), end)


def _resolve(text: str, at: _Now) -> Anchor | None:
    """The time an anchor's words name ("may 8", "last year", "2021")."""
    for pattern, rule in _ANCHORS:
        if m := pattern.fullmatch(text):
            return rule(m, at)
    return None


# Rules over a query's words. Each gives a span, or None where the words are a
# time but name no window ("before today"): those hide what they contain.


def _around(day: datetime, n: int, unit: str) -> Span:
    # "3 days ago" is about a day either side; "2 weeks ago" about a week; "a month ago" a month.
    days = _UNITS[unit]
    centre = day + timedelta(days=n * days)
    half = days // 2 if days > 1 else 1
    if unit == "fortnight":  # two weeks
        half = 3
    return centre - timedelta(days=half), centre + timedelta(days=half + 1)


def _ago(m: re.Match[str], at: _Now) -> Span:
    start, end = _around(at.today, -_num(m["n"]), m["u"])
    return start, min(end, at.tomorrow)


def _from_anchor(m: re.Match[str], at: _Now) -> Span | None:
    # "two weeks before August 11, 2023", "the Sunday before October 25", "the weekend after Easter":
    # counted from the date named, not from today. Counted back, the window runs on to the end of
    # that date: it is named because the thing was said or known then (LoCoMo's "two weeks before
    # August 11" is "two weeks ago" said on 11 August), and episodes carry the time they were said.
    a = _pick(_resolve(m["a"], at), at)
    if a is None:
        return None
    if m.groupdict().get("n"):
        n = _num(m["n"])
        start, end = _around(a[0], -n if m["dir"] == "before" else n, m["u"])
    else:
        day, length = (5, 2) if m["name"] == "weekend" else (WEEKDAYS[m["name"]], 1)
        if m["dir"] == "before":
            start = a[0] - timedelta(days=length)
            start -= timedelta(days=(start.weekday() - day) % 7)
        else:
            start = a[1] + timedelta(days=(day - a[1].weekday()) % 7)
        end = start + timedelta(days=length)
    return (start, max(end, a[1])) if m["dir"] == "before" else (start, end)


def _past(m: re.Match[str], at: _Now) -> Span:
    # "the past month" and "the last 3 weeks" reach back from today; "last month" is the calendar month.
    n = _num(m["n"]) if m.groupdict().get("n") else 1
    return at.today - timedelta(days=n * _UNITS[m["u"]]), at.tomorrow


def _hours(m: re.Match[str], at: _Now) -> Span:
    n = _num(m["n"]) if m["n"] else 1
    return _day(at.now - timedelta(hours=n)), at.tomorrow


def _range(m: re.Match[str], at: _Now) -> Span | None:
    a = _pick(_resolve(m["a"], at), at)
    if a is not None and m["rel"] == "as of":
        # "as of December 2023" asks about the state then; "as of today" is every question's now.
        return None if a[0] <= at.today < a[1] else a
    if a is None or m["rel"] not in ("since", "ever since", "after"):
        return None  # "before 2020", "until May": a bound, not a window
    start = a[0] if m["rel"] != "after" else a[1]
    return (start, at.tomorrow) if start < at.tomorrow else None


def _between(m: re.Match[str], at: _Now) -> Span | None:
    # Each end without a year is read next to the other: "between December and February"
    # on 1 January is the winter just gone; "from March 2022 to May" ends in May 2022.
    a, b = _resolve(m["a"], at), _resolve(m["b"], at)
    if isinstance(b, _Recurring) and isinstance(a, tuple):
        b = next((s for _, s in _spans(b) if s[0] >= a[0]), None)
    b = _pick(b, at)
    if isinstance(a, _Recurring) and b is not None:
        a = next((s for _, s in reversed(_spans(a)) if s[0] < b[0]), None)
    a = _pick(a, at)
    return (a[0], b[1]) if a and b and a[0] < b[1] else None


def _offset(m: re.Match[str], at: _Now) -> Span | None:
    # "the day before Christmas", "the week after Easter"; counted back from a named date it
    # runs on to that date, as in _from_anchor ("the day before yesterday" is one day).
    a = _pick(_resolve(m["a"], at), at)
    if a is None:
        return None
    step = timedelta(days=1 if m["u"] == "day" else 7)
    if m["dir"] == "after":
        return a[1], a[1] + step
    return a[0] - step, (a[0] if m["a"] in ("yesterday", "today", "tomorrow") else a[1])


def _before_last(m: re.Match[str], at: _Now) -> Span | None:
    # "the week before last", "the Saturday before last", "two Saturdays ago".
    name = m["name"]
    n = _num(m["n"]) if m.groupdict().get("n") else 2
    if name in ("week", "month", "year"):
        return _unit(name, -n, at)
    return _last(_weekly(5, at, 2) if name == "weekend" else _weekly(WEEKDAYS[name], at), at, n)


def _anchored(m: re.Match[str], at: _Now) -> Span | None:
    return _pick(_resolve(m["a"], at), at)


def _clipped(m: re.Match[str], at: _Now) -> Span:
    # "earlier this month", "so far this year": the unit up to today.
    return _unit(m["u"] or m["v"], 0, at)[0], at.tomorrow


_SINCE = r"(?P<rel>ever since|since|after|before|until|till|til|prior to|up to|up until|as of)"
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str], _Now], Span | None]]] = [
    # A habit ("every Friday night", "each summer") is no window, and hides the time inside it.
    (
        re.compile(
            rf"\b(?:every|each) (?:other |single )?(?:{_WEEKDAY}|{_MONTH}|{_SEASON}|{_HOLIDAY}|weekend|{_UNIT})"
            r"(?: (?:morning|afternoon|evening|night))?\b"
        ),
        lambda m, at: None,
    ),
    (re.compile(rf"\b(?P<n>{_NUM}) (?P<u>{_UNIT})s? (?:ago\b|back(?=\s*(?:[,.;:!?)]|$)))"), _ago),
    (re.compile(r"\bhalf a year ago\b"), lambda m, at: _around(at.today, -6, "month")),
    (re.compile(rf"\b(?P<n>{_NUM}) (?P<name>{_WEEKDAY}|weekend)s ago\b"), _before_last),
    (re.compile(rf"\bthe (?P<name>{_WEEKDAY}|weekend|week|month|year) before last\b"), _before_last),
    (
        re.compile(rf"\b(?:(?:in|over|during|within|for) )?(?:the )?(?:past|last) (?P<n>{_NUM}) (?P<u>{_UNIT})s?\b"),
        _past,
    ),
    (re.compile(r"\b(?:(?:in|over|during|within|for) )?the last (?P<u>week|fortnight|month|year)\b(?! of)"), _past),
    # "the last day" alone is rather "the last day I saw her": only after "in", "over".
    (re.compile(r"\b(?:in|over|during|within|for) the last (?P<u>day)\b(?! of)"), _past),
    (re.compile(rf"\b(?:(?:in|over|during|within|for) )?(?:the |this )?past (?P<u>{_UNIT})\b(?! of)"), _past),
    (re.compile(rf"\b(?:(?:in|over|during|within|for) )?(?:the )?(?:past|last) (?:(?P<n>{_NUM}) )?hours?\b"), _hours),
    (
        re.compile(
            r"\b(?:(?:earlier|so far|already) this (?P<u>week|month|year)|this (?P<v>week|month|year) so far)\b"
        ),
        _clipped,
    ),
    (re.compile(rf"\bthe (?P<u>day|week) (?P<dir>before|after) (?:the )?(?P<a>{_ANCHOR_RE})\b"), _offset),
    (
        re.compile(rf"\b(?P<n>{_NUM}) (?P<u>{_UNIT})s? (?P<dir>before|after) (?:the )?(?P<a>{_ANCHOR_RE})\b"),
        _from_anchor,
    ),
    (
        re.compile(
            rf"\b(?:the |last )?(?P<name>{_WEEKDAY}|weekend) (?P<dir>before|after) (?:the )?(?P<a>{_ANCHOR_RE})\b"
        ),
        _from_anchor,
    ),
    (re.compile(rf"\b{_SINCE} (?:the )?(?P<a>{_ANCHOR_RE})\b"), _range),
    (re.compile(rf"\bbetween (?:the )?(?P<a>{_ANCHOR_RE}) and (?:the )?(?P<b>{_ANCHOR_RE})\b"), _between),
    (
        re.compile(
            rf"\bfrom (?:the )?(?P<a>{_ANCHOR_RE}) (?:to|until|till|through|thru) (?:the )?(?P<b>{_ANCHOR_RE})\b"
        ),
        _between,
    ),
    (re.compile(rf"\b(?:(?:in|on|during|at|around) (?:the )?)?(?P<a>{_STANDALONE_RE})\b"), _anchored),
    (re.compile(rf"\b(?:in|during|around|throughout) (?:the month of )?(?P<a>{_MONTH})\b"), _anchored),
    (re.compile(rf"\b(?:in|during) (?P<a>{_YEAR})\b"), _anchored),
    (re.compile(rf"\bof (?P<a>{_YEAR})\b(?! {_CROWD}\b)"), _anchored),
    (
        re.compile(rf"\b(?:in|during|over|throughout|around) (?:the )?(?P<a>{_SEASON})(?:time| season)?\b(?! of\b)"),
        _anchored,
    ),
    (re.compile(r"\b(?:in|during|throughout) (?P<a>the (?:19|20)\d0s)\b"), _anchored),
    (re.compile(rf"\b(?:on|at|over|during|around|throughout) (?:the )?(?P<a>{_HOLIDAY})\b"), _anchored),
    (re.compile(rf"\bon (?P<a>{_WEEKDAY})\b"), _anchored),
    (re.compile(rf"\b(?P<a>{_WEEKDAY}) (?:morning|afternoon|evening|night)\b"), _anchored),
    (re.compile(r"\b(?:over|during) the (?P<a>weekend)\b"), _anchored),
    (re.compile(r"\bon (?P<a>the \d{1,2}(?:st|nd|rd|th))\b"), _anchored),
]


# Weekdays inside a name, which give no weekday: days of the year ("Black Friday", "Easter
# Monday"; Easter Sunday is a holiday of its own) and titles, whatever their case.
_WEEKDAY_NAMES = re.compile(
    r"\b(?:(?:black|good) friday|cyber monday|ash wednesday|palm sunday|(?:holy|maundy) thursday"
    r"|holy saturday|easter monday|whit (?:sunday|monday)|(?:shrove|fat|giving) tuesday"
    r"|small business saturday|super bowl sunday|mothering sunday|(?:monday|thursday|sunday) night football"
    r"|saturday night live|friday night lights)\b"
)
# Words that may be capitalised after "Monday Night" without making a title of it.
_PLAIN_WORDS = {
    *("on", "last", "this", "next", "every", "each", "since", "by", "until", "till", "after", "before"),
    *("from", "to", "through", "and", "or", "but", "of", "the", "a", "an", "at", "in", "for", "with"),
}
_WEEKDAY_WORD = re.compile(rf"\b{_WEEKDAY}\b")
_TITLE = re.compile(r"[ \t]+(Morning|Afternoon|Evening|Night)[ \t]+([A-Z][\w'\u2019-]*)")


def _in_title(text: str, end: int) -> bool:
    """Whether the weekday ending at ``text[end]`` opens a title: a capitalised time word and
    another capitalised word after it ("Saturday Night Fever", but "Monday Night at the bar").

    A capitalised word just after a weekday alone is no sign ("On Monday Alice called"), nor is
    one before it ("I saw Bob Friday night"): names are more common there than titles.
    """
    after = _TITLE.match(text, end, end + 80)  # endpos bounds the look ahead
    return bool(after and not after[2].isupper() and after[2].lower() not in _PLAIN_WORDS)


def _mask_names(text: str, lowered: str, where: list[int]) -> str:
    """``lowered`` with each weekday that is part of a name upper-cased, so no weekday rule
    (all lower case) reads it, while a holiday's own pattern still can ("black FRIDAY");
    casing is read from ``text``, which ``lowered`` came from (``where`` maps it back)."""
    masked = list(lowered)
    for name in _WEEKDAY_NAMES.finditer(lowered):
        day = _WEEKDAY_WORD.search(name[0])
        if day:
            masked[name.start() + day.start() : name.start() + day.end()] = day[0].upper()
    for m in _WEEKDAY_WORD.finditer(lowered):
        if _in_title(text, where[m.end() - 1] + 1):
            masked[m.start() : m.end()] = m[0].upper()
    return "".join(masked)


def _normalise(text: str) -> tuple[str, list[int]]:
    """``text`` lower-cased, runs of white space as one space, curly apostrophes
    straight; and for each character of that, where it came from in ``text``."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if out and out[-1] == " ":
                continue
            ch = " "
        for c in ch.lower().replace("\u2019", "'"):
            out.append(c)
            where.append(i)
    return "".join(out), where


def parse_window(text: str, now: datetime) -> TimeWindow | None:
    """The time expression in ``text`` as a window, or ``None``.

    Where there are several, the longest wins ("in May 2023" over "in May"),
    then the first. Times are naive or aware alike: the result carries
    ``now``'s tzinfo.

    >>> w = parse_window("What did I buy two weeks ago?", datetime(2023, 5, 30))
    >>> (w.start.date().isoformat(), w.end.date().isoformat())
    ('2023-05-13', '2023-05-20')
    >>> parse_window("May I ask what you bought before Christmas?", datetime(2023, 5, 30)) is None
    True
    """
    lowered, where = _normalise(text)
    lowered = _mask_names(text, lowered, where)
    naive = now.replace(tzinfo=None)
    try:
        today = _day(naive)
        at = _Now(naive, today, today + timedelta(days=1))
    except OverflowError:  # now is the last day of the calendar
        return None
    found: list[tuple[int, int, Span | None]] = []
    for pattern, rule in _RULES:
        for m in pattern.finditer(lowered):
            try:
                span = rule(m, at)
            except (OverflowError, ValueError):  # "5000 years ago", "in year 0": outside the calendar
                span = None
            found.append((m.start(), m.end(), span))
    # The most specific reading wins: "in May 2023" over "in May"; a reading that is no
    # window ("before today", "5000 years ago") hides the shorter ones inside it.
    hidden: list[tuple[int, int]] = []
    for start, end, span in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
        if any(start < b and a < end for a, b in hidden):
            continue
        if span is None or span[0] >= span[1]:
            hidden.append((start, end))
            continue
        expression = text[where[start] : where[end - 1] + 1].lower()
        return TimeWindow(span[0].replace(tzinfo=now.tzinfo), span[1].replace(tzinfo=now.tzinfo), expression)
    return None


_FIRST = re.compile(r"\b(first|earliest|initially|originally|at first|began|started)\b")
# "what did I say last?": "last" closing a question asks for the latest.
_LAST = re.compile(
    r"\b(most recent(?:ly)?|latest|last time|currently|now|these days|lately|recently|anymore)\b|\blast\s*[?.!]*\s*$"
)


def order_preference(text: str) -> int:
    """-1 if the query asks for the earliest evidence, +1 for the latest, 0 for neither.

    >>> order_preference("What have I been reading recently?")
    1
    """
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
