"""The rule extractor on a table of sentences, and its contract (assistants, questions, times)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hippodex import Memory
from hippodex.extract import PREDICATES, FactCandidate, RuleExtractor, extract_facts

NOW = datetime(2023, 5, 8, 13, 56)

# sentence -> the (predicate, object, negated) facts the rules must find, no more.
TABLE: list[tuple[str, list[tuple[str, str, bool]]]] = [
    ("My name is Ana Silva.", [("name", "Ana Silva", False)]),
    ("I am 32 years old.", [("age", "32", False)]),
    ("I just turned 40!", [("age", "40", False)]),
    ("I'm originally from Brazil.", [("from", "Brazil", False)]),
    ("I grew up in Ohio.", [("from", "Ohio", False)]),
    ("I live in Lisbon with my husband.", [("lives_in", "Lisbon", False), ("relation", "husband", False)]),
    ("I no longer live in Paris.", [("lives_in", "Paris", True)]),
    ("I don't live in Rome anymore.", [("lives_in", "Rome", True)]),
    ("We moved to Porto last month.", [("moved_to", "Porto", False)]),
    ("I'm a software engineer.", [("works_as", "a software engineer", False)]),
    ("I work as a nurse.", [("works_as", "a nurse", False)]),
    ("I work at Google.", [("works_at", "Google", False)]),
    ("I quit my job at Google.", [("works_at", "Google", True)]),
    ("I used to work at Amazon.", [("works_at", "Amazon", True)]),
    ("I got a new job at Spotify two weeks ago.", [("works_at", "Spotify", False)]),
    ("I'm studying biology.", [("studies", "biology", False)]),
    ("I joined a book club.", [("member_of", "a book club", False)]),
    ("I'm now part of the fire-fighting brigade.", [("member_of", "the fire-fighting brigade", False)]),
    ("I'm single.", [("status", "single", False)]),
    ("I got married in 2019.", [("status", "married", False)]),
    ("I'm a transgender woman.", [("identity", "a transgender woman", False)]),
    ("I love sushi.", [("likes", "sushi", False)]),
    ("I don't like sushi.", [("likes", "sushi", True)]),
    ("I hate mornings.", [("dislikes", "mornings", False)]),
    ("My favorite movie is Inception.", [("likes", "Inception", False)]),
    ("Harry Potter is my favorite book.", [("likes", "Harry Potter", False)]),
    ("I'm a big fan of jazz.", [("likes", "jazz", False)]),
    ("I have a golden retriever named Max.", [("has", "a golden retriever named Max", False)]),
    ("My dog Max loves the park.", [("has", "a dog named Max", False)]),
    ("I have two cats.", [("has", "two cats", False)]),
    ("Rachel, my instructor, is great.", [("relation", "instructor: Rachel", False)]),
    ("I've been using Notion for notes.", [("uses", "Notion for notes", False)]),
    ("I go to the gym every morning.", [("habit", "go to the gym every morning", False)]),
    ("I usually go for a run before work.", [("habit", "go for a run before work", False)]),
    ("I'm planning to visit Japan next year.", [("plans", "visit Japan", False)]),
    ("I plan to learn Spanish.", [("plans", "learn Spanish", False)]),
    (
        "Yesterday I went hiking with my kids.",
        [("did", "went hiking with their kids", False), ("relation", "kids", False)],
    ),
    ("What should I get my mom for her birthday?", [("relation", "mom", False)]),
    # Nothing to record: vague objects, small talk, hypotheticals, questions.
    ("I love it!", []),
    ("I'll keep it up.", []),
    ("I have a question about taxes.", []),
    ("If I have a dog, would it need walks?", []),
    ("Thanks, Nate! I won't give up on my goals.", []),
    ("Can you recommend any good day trips from Tokyo?", []),
    ("Wow, that sounds amazing! How did it go?", []),
    ("I'm taking photos of my cat sculpture.", []),
    # A place next to a kin word is not the kin's name.
    (
        "I love Lisbon, my sister Ines visits next week.",
        [("likes", "Lisbon", False), ("relation", "sister: Ines", False)],
    ),
    ("My sister, Lisbon is where she lives.", [("relation", "sister", False)]),
    (
        "I met Tom, my brother.",
        [("relation", "brother: Tom", False), ("did", "met Tom", False)],
    ),
    # The named kin says there is one; a bare "has a sister" beside it would be a second fact.
    ("My sister is a nurse. My sister, Maria, knits.", [("relation", "sister: Maria", False)]),
]


@pytest.mark.parametrize(("sentence", "expected"), TABLE, ids=[s for s, _ in TABLE])
def test_table(sentence: str, expected: list[tuple[str, str, bool]]) -> None:
    found = extract_facts(sentence, speaker=None, role="user", occurred_at=NOW)
    assert sorted((f.predicate, f.object, f.negated) for f in found) == sorted(expected)
    for f in found:
        assert f.subject == "user" and f.predicate in PREDICATES and 0 < f.confidence <= 1
        assert f.single_valued == (PREDICATES[f.predicate] and not f.negated)
        assert f.text.endswith(".") and f.text[0].isupper()


def test_named_speaker_is_the_subject_and_text_reads_in_third_person() -> None:
    [fact] = extract_facts("I live in Lisbon.", speaker="Caroline", role="user", occurred_at=NOW)
    assert (fact.subject, fact.text) == ("Caroline", "Caroline lives in Lisbon.")
    [fact] = extract_facts("I plan to call my sister.", speaker=None, role="user", occurred_at=NOW)[1:]
    assert fact.text == "The user plans to call their sister."


def test_named_third_party() -> None:
    found = extract_facts("My sister Maria lives in Berlin.", speaker="Ana", role="user", occurred_at=NOW)
    assert {(f.subject, f.predicate, f.object) for f in found} == {
        ("Ana", "relation", "sister: Maria"),
        ("Maria", "lives_in", "Berlin"),
    }
    # An apposition between the name and its verb.
    found = extract_facts("Maria, my sister, lives in Berlin.", speaker="Ana", role="user", occurred_at=NOW)
    assert {(f.subject, f.predicate, f.object) for f in found} == {
        ("Ana", "relation", "sister: Maria"),
        ("Maria", "lives_in", "Berlin"),
    }


def test_assistant_turns_state_no_user_facts() -> None:
    text = "I love sushi and I live in Lisbon."
    assert extract_facts(text, speaker=None, role="assistant", occurred_at=NOW) == []
    assert extract_facts(text, speaker="assistant", role="assistant", occurred_at=NOW) == []
    # A named speaker is a person whatever their role (LoCoMo's two humans).
    assert extract_facts(text, speaker="Melanie", role="assistant", occurred_at=NOW)


@pytest.mark.parametrize(
    ("sentence", "valid_from"),
    [
        ("Yesterday I went hiking.", datetime(2023, 5, 7)),
        ("I started surfing five years ago.", datetime(2018, 5, 9)),
        ("We moved to Porto in 2021.", datetime(2021, 1, 1)),
        ("Last week was great. I visited a veterans' hospital.", datetime(2023, 5, 1)),  # a Monday
        ("I just moved to Porto.", NOW),
        ("I love sushi.", None),
    ],
)
def test_relative_times_resolve_against_occurred_at(sentence: str, valid_from: datetime | None) -> None:
    [fact] = extract_facts(sentence, speaker=None, role="user", occurred_at=NOW)
    assert fact.valid_from == valid_from


def test_time_words_are_not_part_of_the_object() -> None:
    [fact] = extract_facts("I won an international tournament yesterday!", speaker="Nate", role="user", occurred_at=NOW)
    assert fact.object == "won an international tournament"


def test_image_captions_are_not_read() -> None:
    text = "Look at this! [shares a photo of I live in Paris]"
    assert extract_facts(text, speaker=None, role="user", occurred_at=NOW) == []


def test_it_is_a_fact_extractor() -> None:
    ex = RuleExtractor()
    assert ex.name == "rules"
    out = ex.extract("I love jazz.", speaker=None, role="user", occurred_at=NOW)
    assert all(isinstance(f, FactCandidate) for f in out) and len(out) == 1


def test_anymore_negates_only_its_own_clause() -> None:
    found = extract_facts("I love sushi but I don't eat meat anymore.", speaker=None, role="user", occurred_at=NOW)
    assert [(f.predicate, f.object, f.negated) for f in found] == [
        ("likes", "sushi", False),
        ("habit", "eat meat", True),
    ]
    [fact] = extract_facts("I love cats, my dog isn't with us anymore.", speaker=None, role="user", occurred_at=NOW)[1:]
    assert (fact.predicate, fact.object, fact.negated) == ("has", "a dog", True)  # its own clause still counts


@pytest.mark.parametrize(
    "sentence",
    [
        "If Maria lives in Berlin, she can host us.",
        "I doubt Tom works at Google.",
        "Maybe Sara lives in Oslo.",
        "I'm not sure Tom works at Google.",
    ],
)
def test_hedged_third_parties_state_nothing(sentence: str) -> None:
    assert extract_facts(sentence, speaker=None, role="user", occurred_at=NOW) == []


@pytest.mark.parametrize(
    "sentence",
    [
        "do i like sushi",
        "So do I live in Rome",
        "where do i work at the moment",
        "Suppose I live in Rome.",
        "Imagine I work at Google.",
    ],
)
def test_questions_without_a_question_mark_and_suppositions_state_nothing(sentence: str) -> None:
    assert extract_facts(sentence, speaker=None, role="user", occurred_at=NOW) == []


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("What can I say, I love turtles.", ("likes", "turtles")),  # the question ends at its comma
        ("When I was a kid I loved sushi.", ("likes", "sushi")),  # a wh-word without inversion asks nothing
        ("I think Tom works at Google.", ("works_at", "Google")),
    ],
)
def test_statements_that_only_look_like_questions_still_count(sentence: str, expected: tuple[str, str]) -> None:
    found = extract_facts(sentence, speaker=None, role="user", occurred_at=NOW)
    assert [(f.predicate, f.object) for f in found] == [expected]


@pytest.mark.parametrize(
    ("sentence", "text"),
    [
        ("I don't live in Vienna.", "The user does not live in Vienna."),
        ("I do not work at Google.", "The user does not work at Google."),
        ("I don't live in Rome anymore.", "The user no longer lives in Rome."),
        ("I no longer live in Paris.", "The user no longer lives in Paris."),
        ("I used to work at Amazon.", "The user no longer works at Amazon."),
        ("I quit my job at Google.", "The user no longer works at Google."),
    ],
)
def test_not_doing_something_is_not_having_stopped(sentence: str, text: str) -> None:
    [fact] = extract_facts(sentence, speaker=None, role="user", occurred_at=NOW)
    assert fact.negated and fact.text == text


@pytest.mark.parametrize(
    ("said", "obj", "text"),
    [
        ("I don't eat meat any more.", "eat meat", "The user no longer eats meat."),
        ("I don't smoke anymore", "smoke", "The user no longer smokes."),
        ("I no longer drink coffee", "drink coffee", "The user no longer drinks coffee."),
        ("I do not go to the gym anymore", "go to the gym", "The user no longer goes to the gym."),
    ],
)
def test_a_habit_that_ended_is_a_negated_habit(said: str, obj: str, text: str) -> None:
    [fact] = extract_facts(said, speaker=None, role="user", occurred_at=NOW)
    assert (fact.predicate, fact.object, fact.negated, fact.text) == ("habit", obj, True, text)


@pytest.mark.parametrize(
    "said",
    [
        "I don't eat meat",  # a plain negation says nothing ended
        "I don't know anymore",  # a state of mind, not a habit
        "Honestly I don't care any more",
        "I don't think so anymore",
    ],
)
def test_what_is_no_ended_habit(said: str) -> None:
    assert [f for f in extract_facts(said, speaker=None, role="user", occurred_at=NOW) if f.predicate == "habit"] == []


def test_an_ended_habit_closes_the_habit(tmp_path: Path) -> None:
    with Memory(tmp_path / "m.db", encoder=None) as m:
        m.add("I eat meat every day", user_id="ana", timestamp="2023-01-10")
        m.add("I don't eat meat any more", user_id="ana", timestamp="2023-06-01")
        [old] = [f for f in m.facts("ana", current_only=False) if f.text == "The user regularly eats meat every day."]
        assert old.valid_to is not None and old.superseded_by is not None
        assert [f.text for f in m.facts("ana") if f.predicate == "habit"] == ["The user no longer eats meat."]


def test_a_turn_is_the_users_own_unless_told_otherwise() -> None:
    [mine] = extract_facts("I live in Porto", occurred_at=NOW)
    assert (mine.subject, mine.text) == ("user", "The user lives in Porto.")
    assert extract_facts("I live in Porto", occurred_at=NOW, role="assistant") == []


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("I'm not a fan of sushi anymore.", ("likes", "sushi", True, "The user does not like sushi.")),
        ("I'm not a fan of sushi.", ("dislikes", "sushi", False, "The user dislikes sushi.")),
        (
            "I no longer plan to visit Kyoto.",
            ("plans", "visit Kyoto", True, "The user no longer plans to visit Kyoto."),
        ),
        (
            "I'm planning to visit Osaka instead of Kyoto.",
            ("plans", "visit Osaka", False, "The user plans to visit Osaka."),
        ),
        ("I want to cook rather than order in.", None),  # "rather than" ends the object; no rule reads "want"
    ],
)
def test_negations_and_alternatives_read_the_right_way_round(said: str, expected: tuple[Any, ...] | None) -> None:
    found = [(f.predicate, f.object, f.negated, f.text) for f in extract_facts(said, occurred_at=NOW)]
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("I live in St. Louis now", [("lives_in", "St. Louis")]),  # an abbreviation ends no sentence
        ("I work at Booking.com", [("works_at", "Booking.com")]),  # nor a dot inside a name
        ("I work at Google.Then I left", [("works_at", "Google")]),  # a dot before a capital still ends it
        ("I moved to Lisbon. I love it.", [("moved_to", "Lisbon")]),
        ("My doctor is Dr. Lee. I like him.", []),  # "him" is no object worth a fact
    ],
)
def test_full_stops_inside_names_and_sentences(said: str, expected: list[tuple[str, str]]) -> None:
    assert [(f.predicate, f.object) for f in extract_facts(said, occurred_at=NOW)] == expected


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (
            "I work as a nurse at Santo António hospital",
            [("works_as", "a nurse"), ("works_at", "Santo António hospital")],
        ),
        ("I now work as a data analyst at Feedzai.", [("works_as", "a data analyst"), ("works_at", "Feedzai")]),
        (
            "I got a new job at Booking.com as a senior data scientist",
            [("works_as", "a senior data scientist"), ("works_at", "Booking.com")],
        ),
        ("I work as a nurse at the hospital", [("works_as", "a nurse at the hospital")]),  # no employer named
    ],
)
def test_a_job_and_its_employer_are_two_facts(said: str, expected: list[tuple[str, str]]) -> None:
    assert sorted((f.predicate, f.object) for f in extract_facts(said, occurred_at=NOW)) == sorted(expected)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("I'm 33.", [("age", "33", False)]),
        ("I'm 5 minutes away", []),  # a number with more after it is no age
        ("I moved from Porto to Lisbon.", [("moved_to", "Lisbon", False)]),
        ("I'm moving to Berlin next month.", [("plans", "moving to Berlin", False)]),
        ("I'm not a nurse anymore.", [("works_as", "a nurse", True)]),
        ("I don't have a dog anymore.", [("has", "a dog", True)]),
        ("I don't have a specific brand in mind", []),  # a plain negation says nothing was owned
        ("I stopped smoking.", [("habit", "smoking", True)]),
        ("I stopped by the store", []),
    ],
)
def test_plain_statements_of_age_moves_plans_and_endings(said: str, expected: list[tuple[str, str, bool]]) -> None:
    assert [(f.predicate, f.object, f.negated) for f in extract_facts(said, occurred_at=NOW)] == expected


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("I'm allergic to peanuts.", [("health", "is allergic to peanuts", False)]),
        ("I'm severely allergic to shellfish and bees", [("health", "is allergic to shellfish and bees", False)]),
        ("I have a peanut allergy.", [("health", "has a peanut allergy", False)]),  # not a possession
        ("I have asthma.", [("health", "has asthma", False)]),
        ("I'm lactose intolerant, so no cheese", [("health", "is lactose intolerant", False)]),
        ("I was diagnosed with diabetes last year.", [("health", "was diagnosed with diabetes", False)]),
        ("I can't eat gluten anymore.", [("health", "cannot eat gluten", False)]),  # newly so, not ended
        ("I'm not allergic to cats anymore.", [("health", "is allergic to cats", True)]),
        ("I can't eat right now", []),
        ("I can't eat another bite!", []),
        ("I have anxiety about exams.", []),
        ("I became vegetarian in May.", [("diet", "vegetarian", False)]),
        ("I'm vegan now.", [("diet", "vegan", False)]),
        ("I'm pregnant!", [("situation", "pregnant", False)]),
        ("I left the book club.", [("member_of", "the book club", True)]),
        ("I quit the choir last month.", [("member_of", "the choir", True)]),
        ("I left the team meeting early.", []),
        ("Hi, I'm Sam!", [("name", "Sam", False)]),
        ("You can call me Sam.", [("name", "Sam", False)]),
        ("I'm Sam.", []),  # as likely "I'm British." without the greeting
        ("Hi, I'm Canadian.", []),
        ("Feel free to call me Monday.", []),
        ("I'm in awe of your courage as a trans person.", []),  # the listener's identity, not the speaker's
        ("As a trans woman, I know this.", [("identity", "a trans woman", False)]),
    ],
)
def test_health_diet_situation_names_and_leaving(said: str, expected: list[tuple[str, str, bool]]) -> None:
    got = [(f.predicate, f.object, f.negated) for f in extract_facts(said, occurred_at=NOW)]
    assert sorted(got) == sorted(expected)


def test_health_facts_read_in_the_third_person() -> None:
    [fact] = extract_facts("I'm allergic to peanuts.", occurred_at=NOW, speaker="Joanna")
    assert fact.text == "Joanna is allergic to peanuts."


def test_a_diet_a_pregnancy_and_an_identity_do_not_close_a_marriage(tmp_path: Path) -> None:
    """Each slot holds its own kind: relationship status, diet; circumstances and identities accumulate."""
    with Memory(tmp_path / "m.db", encoder=None) as m:
        for said, when in [
            ("I got married in 2019.", "2023-01-01"),
            ("I'm a transgender woman.", "2023-01-15"),
            ("I'm vegetarian.", "2023-02-01"),
            ("I'm lesbian.", "2023-02-15"),
            ("I'm pregnant!", "2023-03-01"),
            ("I went vegan last month.", "2023-04-10"),
        ]:
            m.add(said, user_id="ana", timestamp=when)
        current = sorted(f.text for f in m.facts("ana"))
        assert current == [
            "The user is a transgender woman.",
            "The user is lesbian.",
            "The user is married.",
            "The user is pregnant.",
            "The user is vegan.",
        ]
        [old] = [f for f in m.facts("ana", current_only=False) if f.object == "vegetarian"]
        assert old.valid_to is not None and old.superseded_by is not None  # vegan replaced vegetarian


def test_leaving_a_club_ends_the_membership(tmp_path: Path) -> None:
    with Memory(tmp_path / "m.db", encoder=None) as m:
        m.add("I joined a book club.", user_id="ana", timestamp="2023-01-10")
        m.add("I left the book club.", user_id="ana", timestamp="2023-06-01")
        assert [f.text for f in m.facts("ana") if f.predicate == "member_of"] == [
            "The user is no longer a member of the book club."
        ]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("My mom lives in Faro with my stepdad.", [("the user's mom", "lives_in", "Faro")]),
        ("My husband, who is lovely, works at Google.", [("the user's husband", "works_at", "Google")]),
        ("My parents are from Ohio.", [("the user's parents", "from", "Ohio")]),
        ("Clara told me she moved to Munich.", [("Clara", "moved_to", "Munich")]),
        ("Tom said he's from Ireland.", [("Tom", "from", "Ireland")]),
        ("Tom said he's moved to Paris.", [("Tom", "moved_to", "Paris")]),
        ("Ines mentioned that she's living in Oslo now.", [("Ines", "lives_in", "Oslo")]),
        ("Maria lives in Lisbon with her husband.", [("Maria", "lives_in", "Lisbon")]),
        ("If my mom lives in Faro, we can visit.", []),
        ("My mom's friend lives in Paris.", []),  # not the mom's own address
        ("My friend lives in Paris.", []),  # one of many friends: which one is unknown
    ],
)
def test_facts_about_others_unnamed_kin_and_reported_speech(said: str, expected: list[tuple[str, str, str]]) -> None:
    got = [(f.subject, f.predicate, f.object) for f in extract_facts(said, occurred_at=NOW) if f.subject != "user"]
    assert got == expected


def test_texts_about_parents_agree_in_number() -> None:
    texts = [f.text for f in extract_facts("My parents live in Ohio.", occurred_at=NOW, speaker="Ana")]
    assert "Ana's parents live in Ohio." in texts


def test_a_mothers_move_replaces_her_address_not_the_users(tmp_path: Path) -> None:
    with Memory(tmp_path / "m.db", encoder=None) as m:
        m.add("My mom lives in Faro.", user_id="ana", timestamp="2023-01-01")
        m.add("I live in Lisbon.", user_id="ana", timestamp="2023-02-01")
        m.add("My mom moved to Porto last month.", user_id="ana", timestamp="2023-06-01")
        lives = {(f.subject, f.object) for f in m.facts("ana") if f.predicate == "lives_in"}
        assert lives == {("user", "Lisbon"), ("the user's mom", "Porto")}


_WORDS = (
    "I I'm i my My mom parents wife Clara Tom told me said he's she's she he that moved to lives live living in works "
    "as at from is are has studies a the book club team left quit joined allergic intolerant lactose diagnosed with "
    "have asthma peanut allergy can't eat drink gluten Hi, hey call go by Sam Lisbon Faro not no longer anymore "
    "became vegan vegetarian pregnant married got love don't used , . ! ? and but if"
)


@given(st.lists(st.sampled_from(_WORDS.split()), min_size=1, max_size=14))
@settings(max_examples=400, deadline=None)
def test_any_arrangement_of_the_rules_words_reads_without_error(words: list[str]) -> None:
    for fact in extract_facts(" ".join(words), occurred_at=NOW, speaker="Ana"):
        assert fact.predicate in PREDICATES and fact.object and fact.text
