"""Cues in a turn's words that the learned stage weighs (pure functions, English).

The channels score how well a turn matches a question; these say what kind
of turn it is. A memory question about the user ("How many instruments do
I own?") is answered by turns where someone tells something about
themselves ("I've had my Fender for five years"), rarely by requests or
generic talk; "how many" is answered by a turn with a number in it; "what
game" or "where" by one that names something. Measured out of fold with
``hippodex bench fit``, they lift LoCoMo recall@5 and LongMemEval ndcg by
one to two points.

Each cue is one regular expression over a turn's first
:data:`READ_CHARS` characters. What a text holds does not depend on the
question, so it is read once, when the store writes the text
(:func:`stored_reading`, kept in the episode's ``cues`` column), and each
search only checks it against the question: reading 200 candidates afresh
takes about 4 ms, checking what was read about 1 ms. Texts written before the
column existed are read at search (:func:`read_text`, kept in memory for the
last :data:`REMEMBERED` texts) until ``Memory.reindex`` stores their readings.
(Joining the texts and running each pattern once over the whole measured no
faster.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from hippodex.recall.text import READ_CHARS, STOPWORDS, is_content_word, words

#: The columns of :func:`cue_matrix`, in order.
CUES = ("coverage", "first_person", "discloses", "number_asked", "name_asked")

_SUFFIXES = ("ing", "ed", "s")


def _stem(word: str) -> str:
    # Deliberately light: "games" meets "game", "painted" meets "paint".
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_stems(text: str) -> set[str]:
    """The stems of a text's content words.

    >>> sorted(content_stems("What games did Nate play?"))
    ['game', 'nate', 'play']
    """
    return {_stem(w) for w in words(text) if is_content_word(w)}


@dataclass(frozen=True)
class Asked:
    """What a question asks for: its content stems and the kind of answer.

    >>> a = Asked.of("How many games did Nate play?")
    >>> sorted(a.stems), a.number, a.name
    (['game', 'nate', 'play'], True, False)
    """

    stems: frozenset[str]
    number: bool  # a count, amount, duration or age: "how many / much / long / old / often"
    name: bool  # a thing, place or person: "what", "which", "where", "who"
    names: frozenset[str]  # its capitalised words
    form_set: frozenset[str] = frozenset()  # every word form that stems to one of ``stems``

    @cached_property
    def forms(self) -> re.Pattern[str] | None:
        """A pattern matching :attr:`form_set` in a text. Compiled only for texts read
        whole: a long question's pattern takes milliseconds, and candidates' stored
        words are looked up in the set instead."""
        if not self.form_set:
            return None
        return re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(self.form_set))) + r")\b")

    @classmethod
    def of(cls, query: str) -> Asked:
        stems = frozenset(content_stems(query))
        # A word stems to ``a`` only if it is ``a`` or ``a`` plus one suffix.
        forms = sorted(
            {w for a in stems for w in (a, *(a + x for x in _SUFFIXES)) if _stem(w) == a and w not in STOPWORDS}
        )
        return cls(
            stems=stems,
            number=bool(_ASKS_NUMBER.search(query)),
            name=bool(_ASKS_NAME.search(query)),
            names=frozenset(_CAPITALISED.findall(query)),
            form_set=frozenset(forms),
        )


_ASKS_NUMBER = re.compile(r"\bhow (many|much|long|old|often)\b", re.IGNORECASE)
_ASKS_NAME = re.compile(r"^\s*(what|which)\b|\b(where|who)\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")
# "i'm", "i've" count once, by their "i".
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|myself)\b")
# "I just got", "I've had it for years", "we finally moved": someone telling what they did or have.
_DISCLOSURE = re.compile(
    r"\b(?:i|i've|i'm|we)\s+(?:\w+\s+){0,2}?(?:got|bought|started|finished|went|attended|visited|tried|made"
    r"|had|picked|ordered|received|joined|took|completed|participated|signed|moved|lost|upgraded|replaced"
    r"|fixed|adopted|used)\b"
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|first|second|third"
    r"|couple|few|several|dozen|hundred)\b"
)


#: How many texts :func:`read_text` remembers (a few hundred bytes each): the
#: candidates of many searches among texts stored without a reading.
REMEMBERED = 50_000


class Read(NamedTuple):
    """What a text's first :data:`READ_CHARS` characters hold, whatever the question.

    Read whole when the store writes the text (:func:`stored_reading`). A
    text read at search (:func:`read_text`) has no ``names``, and ``number``
    only once a question asks for it: the search reads no more of it than
    its question needs, and checks the names itself.

    >>> r = parse_reading(stored_reading("I just got 2 guitars. Then Valorant!"))
    >>> round(r.first_person, 2), r.discloses, r.number, sorted(r.names)
    (0.14, 1, True, ['Valorant'])
    """

    first_person: float  # first-person words per word
    discloses: int  # times, up to 3, it says what its speaker did or got
    number: bool | None  # it holds a number
    names: tuple[str, ...] | None  # capitalised words inside a sentence (not opening one), sorted, once each


_read: dict[tuple[int, int], Read] = {}


def read_text(text: str, *, number: bool = False) -> Read:
    """Read ``text`` (up to :data:`READ_CHARS`) for the cues that do not depend on the question.

    For a text the store holds no reading of. Remembered by the text's hash
    and length, not the text, so a long text costs no more than a short one
    to keep (two texts of the same length whose 64-bit hashes collide would
    share their cues: a heuristic's inputs, and a chance of about one in
    10^10 among :data:`REMEMBERED`).
    """
    text = text[:READ_CHARS]
    key = (hash(text), len(text))
    read = _read.get(key)
    if read is not None and (not number or read.number is not None):
        return read
    lowered = text.lower()
    if read is None:
        if len(_read) >= REMEMBERED:  # start over rather than track use: most texts are read once or often
            _read.clear()
        read = _read_lowered(text, lowered, number=number, names=False)
    else:
        read = read._replace(number=_NUMBER.search(lowered) is not None)
    _read[key] = read
    return read


def _read_lowered(text: str, lowered: str, *, number: bool, names: bool) -> Read:
    return Read(
        len(_FIRST_PERSON.findall(lowered)) / max(len(text.split()), 1),
        min(len(_DISCLOSURE.findall(lowered)), 3),
        _NUMBER.search(lowered) is not None if number else None,
        tuple(sorted(set(_inner_names(text)))) if names else None,
    )


def stored_reading(text: str) -> str:
    """The whole reading of ``text`` as the store keeps it (:func:`parse_reading` reads it back).

    >>> stored_reading("I just got 2 guitars. Then Valorant!")
    '0.14285714285714285 1 1 Valorant'
    """
    text = text[:READ_CHARS]
    read = _read_lowered(text, text.lower(), number=True, names=True)
    # Names are capitalised ASCII words: spaces part them safely.
    return f"{read.first_person!r} {read.discloses} {int(bool(read.number))} {' '.join(read.names or ())}"


def parse_reading(stored: str | None) -> Read | None:
    """A :func:`stored_reading` back as a :class:`Read`; ``None`` for none, or one that does not parse.

    A search reads a text without a usable reading afresh, so a damaged
    value costs time, never the search; ``Memory.reindex`` writes it anew.

    >>> parse_reading("0.25 1 0 Porto Valorant")
    Read(first_person=0.25, discloses=1, number=False, names=('Porto', 'Valorant'))
    >>> parse_reading("0.25 one") is None
    True
    """
    if not stored:
        return None
    # A search parses the readings of 200 candidates: the names stay a tuple (no hashing), and are
    # only compared with the few the question and speaker give.
    try:
        first_person, discloses, number, names = stored.split(" ", 3)
        read = Read(float(first_person), int(discloses), number == "1", tuple(names.split()))
    except ValueError:
        return None
    return read if math.isfinite(read.first_person) and 0 <= read.discloses <= 3 else None


def cue_matrix(
    texts: Sequence[str],
    asked: Asked,
    speakers: Sequence[str] = (),
    readings: Sequence[Read | None] = (),
    tokens: Sequence[Sequence[str]] = (),
) -> np.ndarray:
    """The ``[len(texts), len(CUES)]`` cues of each text for the question ``asked``.

    ``speakers`` (aligned with ``texts``, optional) are the turns' speaker
    names: a turn naming its own speaker does not name something new.
    ``readings`` (aligned, optional) are the texts' stored readings
    (:func:`parse_reading`); a text without one is read here. ``tokens``
    (aligned, optional) are the texts' distinct content words
    (:func:`~hippodex.recall.text.content_words`, which the store keeps in
    memory): coverage counts them rather than scanning the text again, which
    costs a long text tens of microseconds. Each text is read up to
    :data:`READ_CHARS`.

    - ``coverage``: the share of the question's content stems the text holds;
    - ``first_person``: first-person words ("I", "my") per word;
    - ``discloses``: times, up to 3, the text says what its speaker did or got;
    - ``number_asked``: the question asks "how many" and the text holds a number;
    - ``name_asked``: the question asks what, which, where or who, and the text
      has a capitalised word inside a sentence that neither the question nor
      the speaker's name gives.

    >>> m = cue_matrix(["I just got 2 guitars", "Nice, Valorant is fun"], Asked.of("What guitar does Ana play?"))
    >>> m.round(2).tolist()
    [[0.33, 0.2, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]]
    """
    out = np.zeros((len(texts), len(CUES)))
    for i, text in enumerate(texts):
        stored = readings[i] if i < len(readings) else None
        read = stored if stored is not None else read_text(text, number=asked.number)
        if asked.form_set:
            if i < len(tokens):
                found = {_stem(w) for w in tokens[i] if w in asked.form_set}
            else:
                pattern = asked.forms
                found = {_stem(w) for w in pattern.findall(text[:READ_CHARS].lower())} if pattern else set()
            out[i, 0] = len(found) / len(asked.stems)
        out[i, 1] = read.first_person
        out[i, 2] = read.discloses
        out[i, 3] = asked.number and bool(read.number)
        if asked.name:
            known = asked.names | {speakers[i] if i < len(speakers) else "", "I"}
            if read.names is not None:
                out[i, 4] = any(name not in known for name in read.names)
            else:  # no stored reading: stop at the first new name rather than collect them all
                out[i, 4] = any(name not in known for name in _inner_names(text[:READ_CHARS]))
    return out


def _inner_names(text: str) -> Iterator[str]:
    """Capitalised words of ``text`` that do not open a sentence, in order (lazily: a caller may stop early)."""
    return (m[0] for m in _CAPITALISED.finditer(text) if not _opens_sentence(text, m.start()))


def _opens_sentence(text: str, at: int) -> bool:
    return at == 0 or (at >= 2 and text[at - 1].isspace() and text[at - 2] in ".!?")
