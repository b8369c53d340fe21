"""Query analysis and index keys."""

from __future__ import annotations

from datetime import datetime

from hippodex.recall.text import index_key, query_terms, words


def test_words_split_like_unicode61() -> None:
    assert words("Don't-stop_me naïve CAFÉ 2023") == ["don", "t", "stop", "me", "naïve", "café", "2023"]


def test_query_terms_drop_stopwords_and_duplicates() -> None:
    assert query_terms("Where does my sister live? Where?") == ["sister", "live"]


def test_query_of_only_stopwords_keeps_them() -> None:
    assert query_terms("what is it") == ["what", "is", "it"]


def test_index_key_puts_day_and_speaker_first() -> None:
    key = index_key("hi", occurred_at=datetime(2023, 5, 8, 13, 56), speaker=None, role="assistant")
    assert key == "[Monday, 8 May 2023] assistant: hi"
    assert index_key("hi", occurred_at=datetime(2023, 5, 8), speaker="Jo", role="user", with_date=False) == "Jo: hi"
