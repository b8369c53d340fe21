"""Importing the data exports of ChatGPT and Claude: hand-made conversations.json files in their shapes.

The files are written here, modelled on exports up to 2025: ChatGPT's a list of conversations, each a
``mapping`` of message nodes linked by ``parent``/``children`` with ``current_node`` the leaf the chat
shows; Claude's a list of conversations, each with its ``chat_messages`` in order. No real export is
checked in: they hold people's conversations.
"""

from __future__ import annotations

import gzip
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hippodex import ImportFormatError, Memory
from hippodex.cli import app
from hippodex.ingest.importers import detect_format, read_records

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def node(nid: str, parent: str | None, children: list[str], message: dict[str, Any] | None) -> dict[str, Any]:
    return {"id": nid, "message": message, "parent": parent, "children": children}


def message(mid: str, role: str, text: str | None, at: float | None, **extra: Any) -> dict[str, Any]:
    content = {"content_type": "text", "parts": [text]} if text is not None else {"content_type": "text", "parts": []}
    return {
        "id": mid,
        "author": {"role": role, "name": None, "metadata": {}},
        "create_time": at,
        "content": content,
        **extra,
    }


def trip() -> dict[str, Any]:
    """A conversation with a system root, hidden context, an edited question and an image part."""
    hidden = {"is_visually_hidden_from_conversation": True}
    mapping = {
        "root": node("root", None, ["sys"], None),
        "sys": node("sys", "root", ["ctx"], message("m-sys", "system", "You are ChatGPT.", None)),
        "ctx": node("ctx", "sys", ["q1"], message("m-ctx", "user", "Custom instructions", T0, metadata=hidden)),
        "q1": node("q1", "ctx", ["a1"], message("m-q1", "user", "I'm moving to Lisbon in May.", T0 + 10)),
        "a1": node("a1", "q1", ["q2-old", "q2"], message("m-a1", "assistant", "Congratulations on the move!", T0 + 20)),
        # An edited question: the first version's branch is not the one the chat shows.
        "q2-old": node("q2-old", "a1", [], message("m-q2-old", "user", "Which area is cheap?", T0 + 30)),
        "q2": node("q2", "a1", ["a2"], message("m-q2", "user", "Which area suits a family?", T0 + 40)),
        "a2": node(
            "a2",
            "q2",
            ["img"],
            message("m-a2", "assistant", "Try Campo de Ourique: quiet, with parks.", T0 + 50),
        ),
        "img": node(
            "img",
            "a2",
            [],
            {
                "id": "m-img",
                "author": {"role": "user", "name": None},
                "create_time": T0 + 60,
                "content": {
                    "content_type": "multimodal_text",
                    "parts": [
                        {"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"},
                        "This flat?",
                    ],
                },
            },
        ),
    }
    return {"title": "Moving to Lisbon", "create_time": T0, "mapping": mapping, "current_node": "img", "id": "conv-1"}


def code_chat() -> dict[str, Any]:
    """A second conversation: its messages have no times of their own, and code runs in a tool."""
    code = message("m-c", "assistant", None, None)
    code["content"] = {"content_type": "code", "language": "python", "text": "6 * 7"}
    tool = message("m-t", "tool", None, None)
    tool["content"] = {"content_type": "execution_output", "text": "42"}
    mapping = {
        "q": node("q", None, ["c"], message("m-q", "user", "Compute 6 times 7", None)),
        "c": node("c", "q", ["t"], code),
        "t": node("t", "c", ["a"], tool),
        "a": node("a", "t", [], message("m-a", "assistant", "It is 42.", None)),
    }
    return {
        "title": "Maths",
        "create_time": T0 + 3600,
        "mapping": mapping,
        "current_node": "a",
        "conversation_id": "c-2",
    }


def export(tmp_path: Path, conversations: list[Any], name: str = "conversations.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(conversations), encoding="utf-8")
    return path


def test_the_branch_the_chat_shows_is_read_in_order(tmp_path: Path) -> None:
    path = export(tmp_path, [trip(), code_chat()])
    assert detect_format(path) == "chatgpt"
    records = [r for _, r in read_records(path, user_id="ana")]
    assert [(r["session_id"], r["role"], r["content"]) for r in records] == [
        ("conv-1", "user", "I'm moving to Lisbon in May."),
        ("conv-1", "assistant", "Congratulations on the move!"),
        ("conv-1", "user", "Which area suits a family?"),  # the edit, not the abandoned first version
        ("conv-1", "assistant", "Try Campo de Ourique: quiet, with parks."),
        ("conv-1", "user", "This flat?"),  # an image part is skipped, its text kept
        ("c-2", "user", "Compute 6 times 7"),
        ("c-2", "assistant", "It is 42."),  # the code and its run in between are tool traffic
    ]
    assert records[0]["occurred_at"] == T0 + 10 and records[-1]["occurred_at"] == T0 + 3600  # the conversation's
    assert records[0]["metadata"] == {"source_id": "m-q1", "title": "Moving to Lisbon"}


def test_import_into_a_memory_and_again_adds_nothing(tmp_path: Path) -> None:
    path = export(tmp_path, [trip(), code_chat()])
    with Memory(tmp_path / "m.db", encoder=None) as m:
        assert m.import_episodes(read_records(path, user_id="ana")).added == 7
        assert m.import_episodes(read_records(path, user_id="ana")).added == 0  # ids are stable: a re-run skips
        # A later export holds the earlier conversations too, under a new file name; zipped or not.
        later = export(tmp_path, [trip(), code_chat()], name="later.json")
        archive = tmp_path / "chatgpt-2024-06.zip"
        with zipfile.ZipFile(archive, "w") as z:
            z.write(later, "conversations.json")
        assert m.import_episodes(read_records(later, user_id="ana")).added == 0
        assert m.import_episodes(read_records(archive, user_id="ana")).added == 0
        (hit,) = m.search("family area", user_id="ana", k=1)
        assert hit.episode.content == "Which area suits a family?" and hit.episode.session_id == "conv-1"
        assert hit.episode.occurred_at.isoformat() == "2023-11-14T22:14:00+00:00"
        assert sorted(s.id for s in m.sessions(user_id="ana")) == ["c-2", "conv-1"]


def test_the_zip_chatgpt_gives_is_read_too(tmp_path: Path) -> None:
    inner = export(tmp_path, [trip()])
    archive = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(inner, "conversations.json")
        z.writestr("chat.html", "<html></html>")
    assert detect_format(archive) == "chatgpt"
    assert len(list(read_records(archive, user_id="ana"))) == 5


def test_the_cli_imports_it_and_asks_for_a_user(tmp_path: Path) -> None:
    path = export(tmp_path, [trip()])
    db = tmp_path / "m.db"
    runner = CliRunner()
    refused = runner.invoke(app, ["import", str(path), "--db", str(db), "--encoder", "none"])
    assert refused.exit_code == 2 and "names no user" in refused.stderr and "--user" in refused.stderr
    assert not db.exists()  # refused before a database was made
    done = runner.invoke(app, ["import", str(path), "--user", "ana", "--db", str(db), "--encoder", "none"])
    assert done.exit_code == 0, done.output
    assert "5 added" in done.stdout


@pytest.mark.parametrize(
    ("conversations", "message"),
    [
        ({"mapping": {}}, "expected a list of conversations"),
        ([["not", "an", "object"]], "conversation 1: expected a JSON object"),
        ([{"title": "t", "current_node": "x", "mapping": {}}], "message 'x' is missing"),
        (
            [{"current_node": "a", "mapping": {"a": node("a", "b", [], None), "b": node("b", "a", ["a"], None)}}],
            "its parents loop",
        ),
        (
            [
                {
                    "title": "No time",
                    "current_node": "q",
                    "mapping": {"q": node("q", None, [], message("m", "user", "hi", None))},
                }
            ],
            "conversation 1 (No time): a message with no create_time",
        ),
    ],
)
def test_a_malformed_export_names_the_conversation(tmp_path: Path, conversations: Any, message: str) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(conversations), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=re.escape(message)):
        list(read_records(path, fmt="chatgpt", user_id="ana"))


def test_a_zip_without_the_conversations_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", "hello")
    with pytest.raises(ImportFormatError, match=re.escape("a zip without conversations.json")):
        read_records(archive, user_id="ana")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ImportFormatError, match="not a readable zip file"):
        read_records(tmp_path / "broken.zip", user_id="ana")


# -- Claude ---------------------------------------------------------------------------------------
def claude_trip() -> dict[str, Any]:
    def msg(uuid: str, sender: str, at: str, *blocks: dict[str, Any], text: str = "") -> dict[str, Any]:
        return {"uuid": uuid, "sender": sender, "created_at": at, "text": text, "content": list(blocks)}

    return {
        "uuid": "cl-1",
        "name": "Moving to Lisbon",
        "created_at": "2024-05-01T12:00:00.000000Z",
        "chat_messages": [
            msg("u1", "human", "2024-05-01T12:00:01.000000Z", {"type": "text", "text": "I'm moving to Lisbon in May."}),
            msg(
                "a1",
                "assistant",
                "2024-05-01T12:00:05.000000Z",
                {"type": "thinking", "thinking": "The user is relocating."},
                {"type": "text", "text": "Congratulations!"},
                {"type": "tool_use", "name": "web_search", "input": {"q": "Lisbon"}},
                {"type": "text", "text": "Campo de Ourique suits families."},
            ),
            msg("u2", "human", "2024-05-01T12:01:00.000000Z", text="Thanks, noted."),  # an older export: text only
            msg("u3", "human", "2024-05-01T12:02:00.000000Z", {"type": "text", "text": "  "}),  # nothing to keep
        ],
    }


def test_a_claude_export_is_read_in_order(tmp_path: Path) -> None:
    path = export(tmp_path, [claude_trip()])
    assert detect_format(path) == "claude"
    records = [r for _, r in read_records(path, user_id="ana")]
    assert [(r["session_id"], r["role"], r["content"]) for r in records] == [
        ("cl-1", "user", "I'm moving to Lisbon in May."),
        ("cl-1", "assistant", "Congratulations!\nCampo de Ourique suits families."),  # no thinking, no tool call
        ("cl-1", "user", "Thanks, noted."),
    ]
    assert records[0]["occurred_at"] == "2024-05-01T12:00:01.000000Z"
    assert records[0]["metadata"] == {"source_id": "u1", "title": "Moving to Lisbon"}
    with Memory(tmp_path / "m.db", encoder=None) as m:
        assert m.import_episodes(read_records(path, user_id="ana")).added == 3
        assert m.import_episodes(read_records(path, user_id="ana")).added == 0


def test_a_claude_export_zip_is_told_from_a_chatgpt_one(tmp_path: Path) -> None:
    for conversations, expected in (([claude_trip()], "claude"), ([trip()], "chatgpt")):
        archive = tmp_path / f"{expected}.zip"
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("users.json", "[]")
            z.writestr("conversations.json", json.dumps(conversations))
        assert detect_format(archive) == expected
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("conversations.json", json.dumps([{"messages": []}]))
    with pytest.raises(ImportFormatError, match="neither ChatGPT's nor Claude's export"):
        detect_format(other)


@pytest.mark.parametrize(
    ("conversation", "message"),
    [
        ({"uuid": "x", "name": "Bare"}, "conversation 1 (Bare): no 'chat_messages' list"),
        ({"uuid": "x", "chat_messages": ["hi"]}, "a message that is not a JSON object"),
        (
            {"uuid": "x", "chat_messages": [{"sender": "human", "text": "hi"}]},
            "a message with no created_at, and none for the conversation",
        ),
    ],
)
def test_a_malformed_claude_export_names_the_conversation(tmp_path: Path, conversation: Any, message: str) -> None:
    path = export(tmp_path, [conversation])
    with pytest.raises(ImportFormatError, match=re.escape(message)):
        list(read_records(path, fmt="claude", user_id="ana"))


def test_a_gzipped_conversations_json_is_read_as_it_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "conversations.json.gz"
    path.write_bytes(gzip.compress(json.dumps([claude_trip()]).encode()))
    assert detect_format(path) == "claude"
    records = [r for _, r in read_records(path, user_id="ana")]
    assert len(records) == 3 and records[0]["content"] == "I'm moving to Lisbon in May."
