"""Entity mentions from rules: names, places, organisations, aliases, spans."""

from __future__ import annotations

import pytest

from hippodex.extract import lexicon
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
        # "X and I" does things together with the speaker.
        ("Joana and I went to the beach.", [("Joana", "person")]),
        ("Sam & me went out.", [("Sam", "person")]),
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
        # "and I" after a common noun names no one.
        "Work and I don't get along.",
        "Coffee and I are friends.",
        "Mom and I baked bread.",
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
        # A word listed with a brand or a place is one too; listed with a person, still a person.
        ("I got sponsorships from Nike and Gatorade!", [("Nike", "org"), ("Gatorade", "org")]),
        ("Nike, Adidas and Puma sent shoes.", [("Nike", "org"), ("Adidas", "org"), ("Puma", "org")]),
        ("I met Tom and Ana there.", [("Tom", "person"), ("Ana", "person")]),
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Demonyms and languages are capitalised but name no one.
        ("I love Mexican food.", [("Mexican", "other")]),
        ("My Swedish grandma makes meatballs.", [("Swedish", "other")]),
        ("We ate at the Italian restaurant.", [("Italian", "other")]),
        ("I love Japanese culture.", [("Japanese", "other")]),
        ("I speak French and some Mandarin.", [("French", "other"), ("Mandarin", "other")]),
        ("I am learning Python.", [("Python", "other")]),
        ("We met two Canadians.", [("Canadians", "other")]),  # plural
        ("I love Korean-style ribs.", [("Korean-style", "other")]),  # compound
        ("We went to Korean BBQ.", [("Korean BBQ", "other")]),  # not "to" + two words = a person
        ("We talked in English.", [("English", "other")]),  # not "in" + a word = a place
        ("French is hard.", [("French", "other")]),  # first in a sentence, before a verb
        # Lower-case compounds are modifiers, not names.
        ("I built an AI-powered app.", [("AI-powered", "other")]),
        # Names that double as a demonym are left off the list; organisations win.
        ("I met Roman and Christian.", [("Roman", "person"), ("Christian", "person")]),
        ("I flew American Airlines.", [("American Airlines", "org")]),
    ],
)
def test_demonyms_and_languages_are_not_people(text: str, expected: list[tuple[str, str]]) -> None:
    assert _kinds(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # After a head that takes a thing, a lone name is a title, brand or charity.
        ("I donated clothes to Goodwill.", [("Goodwill", "other")]),
        ("Any movies similar to Avengers?", [("Avengers", "other")]),
        ("It's similar to Star Wars, honestly.", [("Star Wars", "other")]),  # "to" is no person cue here
        ("I talked to Ana Lopez yesterday.", [("Ana Lopez", "person")]),
        ("How does it compare to Tamiya?", [("Tamiya", "other")]),
        ("I transferred my points to United.", [("United", "other")]),
        ("I switched to Verizon.", [("Verizon", "other")]),
        # Stores after travel stay a place, known ones an organisation.
        ("We went to Kroger.", [("Kroger", "place")]),
        ("We went to Walmart.", [("Walmart", "org")]),
        # Other "to"s keep the default, and a possessive is a person's.
        ("I reached out to Rachel.", [("Rachel", "person")]),
        ("We said goodbye to Max.", [("Max", "person")]),
        ("Congrats to David!", [("David", "person")]),
        ("We donated to Ana's fund.", [("Ana", "person")]),
    ],
)
def test_to_after_a_head_that_takes_a_thing_is_no_person(text: str, expected: list[tuple[str, str]]) -> None:
    assert _kinds(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Names that are common words or end like a gerund, first in a
        # sentence: a possessive before kin, or a verb only people do...
        ("Joy's sister called.", [("Joy", "person")]),
        ("Will said he'd come.", [("Will", "person")]),
        ("May asked about you.", [("May", "person")]),
        ("Hope just texted me.", [("Hope", "person")]),
        ("Manning said hi.", [("Manning", "person")]),
        ("Felicity told me.", [("Felicity", "person")]),
        # ...or the same word mid-sentence.
        ("Hope is a good friend. I met Hope at work.", [("Hope", "person"), ("Hope", "person")]),
        ("Sterling was late. I met Sterling at work.", [("Sterling", "person"), ("Sterling", "person")]),
        # Names in no stop list keep the usual sign.
        ("Grace is here.", [("Grace", "person")]),
    ],
)
def test_names_that_are_common_words_count_on_a_strict_sign(text: str, expected: list[tuple[str, str]]) -> None:
    assert _kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # "is", "has", "moves" or a contraction say nothing about such a word.
        "Hope you are well.",
        "Joy is everywhere.",
        "Joy's contagious.",
        "Will is coming.",
        "May I ask?",
        "Faith moves mountains.",
        "Summer is here.",
        "Sterling was there.",
        "Painting has helped me.",
        # Common words with a gerund's ending stay dropped even before "told".
        "Something told me to go.",
        "Having said that, no.",
        # A demonym first in a sentence with no sign is dropped like any word.
        "Polish the chrome first.",
        "Mexican food is great.",
        # Days, also plural or cut short.
        "We go on Sundays and last Fri.",
    ],
)
def test_common_words_stay_dropped(text: str) -> None:
    assert extract_entities(text) == []


def test_names_as_words_are_the_ones_a_stop_list_drops() -> None:
    # The strict sign is only for words a stop list would drop; listing
    # another name there would make it stricter for nothing.
    stop = lexicon.COMMON_STARTERS | lexicon.NOT_NAMES | lexicon.MONTHS_DAYS
    assert lexicon.NAMES_AS_WORDS.issubset(stop)
    assert not lexicon.DEMONYMS & (lexicon.PLACES | lexicon.LANGUAGES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # An assistant's Markdown: headings name topics, and a bold label opens its sentence.
        ("**Compression**: Compression reduces size.", []),
        ("1. **Security**: Security matters.", []),
        ("### Features to Consider\nUse caching.", []),
        ("## Meeting Maria\nI met Maria in Lisbon.", [("Maria", "person"), ("Lisbon", "place")]),
        ("- **Caching**: keep it in Redis.", [("Redis", "place")]),  # only the label is dropped
        ("> Ana's sister called.", [("Ana", "person")]),  # a quote marker: the possessive still shows a name
        ("We use C# and Go.", [("C", "other"), ("Go", "person")]),  # a '#' inside a line is no heading
    ],
)
def test_markdown_headings_and_labels_are_no_names(text: str, expected: list[tuple[str, str]]) -> None:
    assert _kinds(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("In Lisbon we ate well.", [("Lisbon", "place")]),  # a preposition opening the sentence is no part of it
        ("For Kyoto I recommend Gion.", [("Kyoto", "place"), ("Gion", "person")]),
        ("Congrats on the Booking.com role.", [("Booking.com", "org")]),  # nor the lower-case words after a filler
        ("Actually I'm 33 and Joana is 34.", [("Joana", "person")]),  # a number alone is no entity
        ("I work at Feedzai.", [("Feedzai", "org")]),  # where one works is an organisation
        ("I work with Maria", [("Maria", "person")]),
        ("I saw The 1975 live", [("The 1975", "other")]),  # a name with a number in it stays
    ],
)
def test_names_without_the_words_around_them(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(e.name, e.kind) for e in extract_entities(text)] == expected
