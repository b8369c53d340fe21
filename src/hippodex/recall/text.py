"""Text analysis shared by the write path and the lexical channel."""

from __future__ import annotations

import re
from datetime import datetime

#: How much of a turn the learned stage reads, for its word cues and its sentence
#: vectors alike: a turn says what it is about early, and 200 pasted documents of
#: 100,000 characters would cost a second a pattern. Of the dev benchmarks'
#: candidates, 0.1% are longer.
READ_CHARS = 2_000

# Split the way SQLite's unicode61 tokenizer does: runs of letters and digits.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Function words carry no evidence and make an OR query match everything.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t d ll m re ve don doesn didn isn wasn weren won wouldn shouldn couldn haven hasn hadn
    also like get got just really yeah oh ok okay hey hi hello thanks thank lot well much many
    one ever tell know think""".split()  # noqa: SIM905
)


def words(text: str) -> list[str]:
    """Lower-cased words of a text, in order."""
    return [w.lower() for w in _WORD.findall(text)]


def is_content_word(word: str) -> bool:
    """Whether a lower-cased word carries content: not a stopword, and longer than one character."""
    return word not in STOPWORDS and len(word) > 1


def content_words(text: str) -> list[str]:
    """Distinct content words of the first :data:`READ_CHARS` characters, in order.

    >>> content_words("I play Valorant, and I play it a lot.")
    ['play', 'valorant']
    """
    # Lower-cased before splitting (not word by word as words() does): a third faster,
    # and the same words for every text but a few exotic capitals such as "İ".
    return [w for w in dict.fromkeys(_WORD.findall(text[:READ_CHARS].lower())) if is_content_word(w)]


def query_terms(text: str) -> list[str]:
    """Distinct content words of a query, in order; all words if only stopwords remain."""
    all_words = list(dict.fromkeys(words(text)))
    content = [w for w in all_words if w not in STOPWORDS]
    return content or all_words


def format_day(dt: datetime) -> str:
    """A date the way people write it, so '8 May 2023' in a question matches."""
    return f"{dt:%A}, {dt.day} {dt:%B %Y}"


def index_key(content: str, *, occurred_at: datetime, speaker: str | None, role: str, with_date: bool = True) -> str:
    """The text the lexical and dense channels index for one episode.

    The date and speaker are part of the key (not of the verbatim content):
    questions name people and dates, and measured on LoCoMo the date alone adds
    several points of recall to every channel.

    >>> from datetime import datetime
    >>> index_key("I moved to Lisbon", occurred_at=datetime(2023, 5, 8), speaker="Ana", role="user")
    '[Monday, 8 May 2023] Ana: I moved to Lisbon'
    """
    who = speaker or role
    prefix = f"[{format_day(occurred_at)}] " if with_date else ""
    return f"{prefix}{who}: {content}"
