"""Entity mentions from rules: names, places, organisations, aliases, spans."""

from __future__ import annotations

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
