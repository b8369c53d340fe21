"""Entity mentions from rules: names, places, organisations, aliases, spans."""

from __future__ import annotations

import pytest

from hippodex.extract.entities import canonical, extract_entities


def _triples(text: str, **kw: object) -> list[tuple[str, str, str]]:
    return [(e.name, e.canonical, e.kind) for e in extract_entities(text, **kw)]  # type: ignore[arg-type]


def test_people_places_orgs_and_spans() -> None:
    text = "I went to Spain last year. My friend Rachel works at Google."
    found = extract_entities(text)
    assert [(e.name, e.kind) for e in found] == [("Spain", "place"), ("Rachel", "person"), ("Google", "org")]
    assert all(text[e.start : e.end] == e.name for e in found)


def test_speaker_known_names_and_aliases() -> None:
    assert _triples("Thanks, Mel! Caroline here.", speaker="Caroline", known=["Melanie"]) == [
        ("Mel", "melanie", "person"),
        ("Caroline", "caroline", "person"),
    ]


def test_possessives_fillers_and_sentence_starts() -> None:
    assert _triples("Wow John, Maria's dog is cute. Painting helps me.") == [
        ("John", "john", "person"),
        ("Maria", "maria", "person"),
    ]


def test_titles_events_and_numbers() -> None:
    text = 'I saw The 1975 at Halloween Horror Nights and read "The Great Gatsby" at Stanford University.'
    assert _triples(text) == [
        ("The 1975", "1975", "other"),
        ("Halloween Horror Nights", "halloween horror nights", "event"),
        ("The Great Gatsby", "great gatsby", "thing"),
        ("Stanford University", "stanford university", "org"),
    ]


def test_nothing_in_plain_chat() -> None:
    assert extract_entities("Thanks! I really appreciate it. See you soon.") == []
    assert extract_entities("") == []


def test_canonical() -> None:
    assert canonical("The Hollywood Bowl's") == "hollywood bowl"
    assert canonical("Caroline’s") == "caroline"


def test_names_do_not_run_across_sentences_lists_or_the_pronoun_i() -> None:
    # Seen in the demo: "Leeds. Tom and I" came out as one entity.
    found = [e.name for e in extract_entities("We moved from Leeds. Tom and I love it there.")]
    assert "Leeds" in found and not any("." in n or n.endswith(" I") for n in found)
    assert [e.name for e in extract_entities("I visited St. Louis with Ana and Bo.")] == ["St. Louis", "Ana", "Bo"]
    assert "Bank of America" in [e.name for e in extract_entities("She works at the Bank of America now.")]


def _kinds(text: str, **kw: object) -> list[tuple[str, str]]:
    return [(e.name, e.kind) for e in extract_entities(text, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A possessive, a person verb (maybe after an adverb) or the same word
        # mid-sentence shows that a lone first word is a name.
        ("Ana lives in Rome.", [("Ana", "person"), ("Rome", "place")]),
        ("Ana's brother moved to Oslo.", [("Ana", "person"), ("Oslo", "place")]),
        ("Priya said hi. Tomas was my teacher.", [("Priya", "person"), ("Tomas", "person")]),
        ("Ana just moved to Lima.", [("Ana", "person"), ("Lima", "place")]),
        ("Wow. Ana teaches yoga now.", [("Ana", "person")]),
        ("Kai rocks. I told Kai about it.", [("Kai", "person"), ("Kai", "person")]),
        # The word met mid-sentence lends its kind.
        ("Oslo is cold. We moved to Oslo last year.", [("Oslo", "place"), ("Oslo", "place")]),
    ],
)
def test_lone_first_word_counts_when_the_text_shows_a_name(text: str, expected: list[tuple[str, str]]) -> None:
    assert _kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Honestly I think so.",
        "Thanks!",
        "Kai rocks.",  # a capitalised first word with no sign of a name
        # Plural nouns before a verb, and verbs left off the list.
        "Books are great.",
        "Cats sleep a lot.",
        "Kids loved it.",
        # Common sentence starters, even before a person verb.
        "This is great.",
        "That was fun.",
        "There is a way.",
        "It is fine.",
        "He is nice.",
        "She was there.",
        "They went home.",
        "We went home.",
        "Yesterday was fun.",
        "Today is hot.",
        "Sometimes it rains.",
        "Nothing is wrong.",
        "Everything is fine.",
        "Someone called.",
        "Everyone loves it.",
        "Nobody knows.",
        "Music is life.",
        "Work was hard.",
        "Life is good.",
        # Common nouns by their ending, contractions and lower-case compounds.
        "Painting is fun.",
        "Education is key.",
        "Kindness is free.",
        "Basketball has been great.",
        "You've got this!",
        "Don't quit!",
        "Dairy-free is a must.",
        # "'s" as a contraction, not a possessive.
        "Life's good.",
        "Soup's so good.",
        "Soup's ready.",
    ],
)
def test_lone_first_word_is_still_dropped_without_a_sign(text: str) -> None:
    assert extract_entities(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "I support LGBTQ rights, NASA and UCLA.",
            [("LGBTQ", "other"), ("NASA", "org"), ("UCLA", "org")],
        ),
        ("We watched the NBA finals on TV.", [("NBA", "org"), ("TV", "other")]),
        ("UCLA accepted me.", [("UCLA", "org")]),  # an acronym first in a sentence is kept
        ("It was INTENSE!", [("INTENSE", "other")]),  # shouting is no organisation
        ("I moved to the US last year.", [("US", "place")]),
        ("I shop at PetSmart and order from Chewy.com.", [("PetSmart", "org"), ("Chewy.com", "org")]),
    ],
)
def test_all_capitals_and_brand_spellings_are_not_people(text: str, expected: list[tuple[str, str]]) -> None:
    assert _kinds(text) == expected


def test_acronym_of_a_known_person_and_single_letters() -> None:
    assert _kinds("I met JJ today.", known=["JJ"]) == [("JJ", "person")]
    assert extract_entities("I think I can. A good day.") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "to"/"from" after talk, gifts or a possessive: a person.
        ("I talked to Caroline yesterday.", [("Caroline", "person")]),
        ("I got a letter from Maria.", [("Maria", "person")]),
        ("I gave it to Jon.", [("Jon", "person")]),
        ("We went to Maria's house.", [("Maria", "person")]),
        ("We ate at Sarah's place.", [("Sarah", "person")]),
        # A bare "from" is as often a shop: neither a person nor a place.
        ("I got a dog bed from Petco.", [("Petco", "other")]),
        # After travel, on a route, for a hometown, or after in/at/near/visit: a place.
        ("We went to Akron.", [("Akron", "place")]),
        ("She moved to Oslo.", [("Oslo", "place")]),
        ("We drove back to Akron.", [("Akron", "place")]),
        ("I took a flight from Lima.", [("Lima", "place")]),
        ("We did a road trip to Moab.", [("Moab", "place")]),
        ("I moved here from Akron.", [("Akron", "place")]),
        ("I'm from Akron.", [("Akron", "place")]),
        ("We flew from Lima to Quito.", [("Lima", "place"), ("Quito", "place")]),
        ("I live in Akron.", [("Akron", "place")]),
        ("We stayed in Paris.", [("Paris", "place")]),
        ("I visited Akron and stayed near Moab.", [("Akron", "place"), ("Moab", "place")]),
        # A known place stays a place whatever precedes it.
        ("I got a postcard from Paris.", [("Paris", "place")]),
        ("I said hi to Lisbon.", [("Lisbon", "place")]),
    ],
)
def test_to_and_from_make_a_place_only_after_travel(text: str, expected: list[tuple[str, str]]) -> None:
    assert _kinds(text) == expected
