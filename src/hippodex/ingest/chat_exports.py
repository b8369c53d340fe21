"""Readers for the data exports of chat assistants: ChatGPT's and Claude's.

Both exports are a zip holding ``conversations.json``, a JSON list of
conversations; import reads the zip or that file. The export names no user, so
the caller gives one. Each conversation becomes a session (its id), each
message with text an episode with its own time, and the conversation's title
goes in each episode's metadata (``title``; ``source_id`` is the message's
id). Episode ids come from the export's own ids, so importing a later export
(which holds the earlier conversations too), or the same one under another
name, adds only what is new.

- **ChatGPT** (``chatgpt``): a conversation is a tree of message nodes
  (``mapping``, linked by ``parent``); it is read along the branch the chat
  shows, from ``current_node`` back to the root, so an edited message's
  abandoned branch stays out. User and assistant messages with text are kept;
  system messages, hidden context (custom instructions), tool traffic
  (browsing, code and its output) and image or file parts are skipped.
- **Claude** (``claude``): a conversation lists its ``chat_messages`` in order;
  ``human`` messages are the user's. Their text blocks are kept; tool calls,
  thinking and attachments are skipped.

The shapes read are those of exports up to 2025. A file that does not fit
names the conversation and what is missing.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hippodex._exceptions import ImportFormatError
from hippodex.ingest.files import open_bytes
from hippodex.ingest.normalize import stable_id

MEMBER = "conversations.json"
Records = Iterator[tuple[int, dict[str, Any]]]


def kind(head: str) -> str | None:
    """Which export the start of a ``conversations.json`` looks like, if either."""
    if '"mapping"' in head and '"current_node"' in head:
        return "chatgpt"
    if '"chat_messages"' in head:
        return "claude"
    return None


def _member(path: Path, z: zipfile.ZipFile) -> str:
    found = [n for n in z.namelist() if n.rsplit("/", 1)[-1] == MEMBER]
    if not found:
        raise ImportFormatError(f"{path}: a zip without {MEMBER}; import reads the data export of ChatGPT or Claude")
    return min(found, key=len)


def _read(path: Path, limit: int = -1) -> str:
    """``conversations.json`` (or its first ``limit`` bytes), from the file or the export zip."""
    try:
        if path.name.lower().endswith(".zip"):
            with zipfile.ZipFile(path) as z, z.open(_member(path, z)) as fh:
                raw = fh.read(limit)
        else:
            with open_bytes(path) as fh:  # a .json.gz too, as detection reads it
                raw = fh.read(limit)
        # A prefix read for detection may end inside a character; the whole file may not.
        return str(raw.decode("utf-8-sig", "ignore" if limit >= 0 else "strict"))
    except zipfile.BadZipFile as exc:
        raise ImportFormatError(f"{path}: not a readable zip file ({exc})") from None
    except UnicodeDecodeError:
        raise ImportFormatError(f"{path}: not UTF-8 text") from None


def detect(path: Path) -> str:
    """``"chatgpt"`` or ``"claude"`` for an export zip; an error for any other zip."""
    found = kind(_read(path, 1 << 16))
    if found is None:
        raise ImportFormatError(f"{path}: its {MEMBER} is neither ChatGPT's nor Claude's export")
    return found


def _conversations(path: Path) -> list[Any]:
    try:
        data = json.loads(_read(path))
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ImportFormatError(f"{path}: not valid JSON ({exc.msg} at {where})") from None
    if not isinstance(data, list):
        raise ImportFormatError(f"{path}: expected a list of conversations, got a JSON {type(data).__name__}")
    return data


def _text_of(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _episode(
    source: str, user: str, session: str, title: str | None, mid: object, role: str, text: str, when: object
) -> dict[str, Any]:
    meta: dict[str, Any] = {"source_id": mid}
    if title:
        meta["title"] = title
    return {
        # From the ids the export gives, not the file's name: each export downloads under a new
        # name, and importing the next one (or the unzipped file) must skip what is already in.
        "id": stable_id(source, session, mid if mid else text),
        "user_id": user,
        "session_id": session,
        "role": role,
        "content": text,
        "occurred_at": when,
        "metadata": meta,
    }


def _each(path: Path) -> Iterator[tuple[int, dict[str, Any], str]]:
    """Each conversation, numbered from 1, with the words that name it in an error."""
    for n, conv in enumerate(_conversations(path), start=1):
        if not isinstance(conv, dict):
            raise ImportFormatError(f"{path}: conversation {n}: expected a JSON object")
        title = conv.get("title") or conv.get("name")
        yield n, conv, f"{path}: conversation {n} ({title or conv.get('id') or conv.get('uuid') or 'untitled'})"


# -- ChatGPT ------------------------------------------------------------------------
# What the person and the assistant said: tool traffic (browsing, code runs) would crowd recall.
_CHATGPT_ROLES = ("user", "assistant")
_CHATGPT_TEXT = ("text", "multimodal_text")  # content types that carry what was said


def _chatgpt_text(message: dict[str, Any]) -> str:
    """The text of one ChatGPT message: its string parts, joined; "" if it has none."""
    content = message.get("content")
    if not isinstance(content, dict) or content.get("content_type") not in _CHATGPT_TEXT:
        return ""
    parts = content.get("parts")
    return "\n".join(p for p in parts if isinstance(p, str) and p.strip()).strip() if isinstance(parts, list) else ""


def _chatgpt_thread(conv: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """The messages of the branch a conversation shows: from ``current_node`` up to the root."""
    mapping = conv.get("mapping")
    if not isinstance(mapping, dict):
        raise ImportFormatError(f"{where}: no 'mapping' of messages; is this ChatGPT's {MEMBER}?")
    node_id = conv.get("current_node")
    if node_id is None:  # no leaf recorded: the last node without children
        leaves = [k for k, n in mapping.items() if isinstance(n, dict) and not n.get("children")]
        node_id = leaves[-1] if leaves else None
    thread: list[dict[str, Any]] = []
    seen: set[str] = set()
    while node_id is not None:
        node = mapping.get(node_id)
        if not isinstance(node, dict) or node_id in seen:
            raise ImportFormatError(f"{where}: message {node_id!r} is missing from 'mapping', or its parents loop")
        seen.add(node_id)
        if isinstance(node.get("message"), dict):
            thread.append(node["message"])
        node_id = node.get("parent")
    return thread[::-1]


def chatgpt(path: Path, user_id: str) -> Records:
    """``(conversation number, record)`` pairs of a ChatGPT export, in the export shape."""
    for n, conv, where in _each(path):
        session = str(conv.get("conversation_id") or conv.get("id") or f"chatgpt-{n}")
        title = conv.get("title") if isinstance(conv.get("title"), str) else None
        for message in _chatgpt_thread(conv, where):
            author = message["author"] if isinstance(message.get("author"), dict) else {}
            about = message["metadata"] if isinstance(message.get("metadata"), dict) else {}
            hidden = about.get("is_visually_hidden_from_conversation")  # custom instructions and the like
            text = _chatgpt_text(message)
            if author.get("role") not in _CHATGPT_ROLES or hidden or not text:
                continue
            when = message.get("create_time") or conv.get("create_time")
            if not isinstance(when, int | float) or isinstance(when, bool):
                raise ImportFormatError(f"{where}: a message with no create_time, and none for the conversation")
            yield n, _episode("chatgpt", user_id, session, title, message.get("id"), author["role"], text, when)


# -- Claude -------------------------------------------------------------------------
_CLAUDE_ROLES = {"human": "user", "assistant": "assistant"}


def _claude_text(message: dict[str, Any]) -> str:
    """The text blocks of one Claude message, joined; its ``text`` field where it has no blocks."""
    blocks = message.get("content")
    if isinstance(blocks, list) and blocks:
        texts = [_text_of(b.get("text")) for b in blocks if isinstance(b, dict) and b.get("type") == "text"]
        return "\n".join(t for t in texts if t)
    return _text_of(message.get("text"))


def claude(path: Path, user_id: str) -> Records:
    """``(conversation number, record)`` pairs of a Claude export, in the export shape."""
    for n, conv, where in _each(path):
        messages = conv.get("chat_messages")
        if not isinstance(messages, list):
            raise ImportFormatError(f"{where}: no 'chat_messages' list; is this Claude's {MEMBER}?")
        session = str(conv.get("uuid") or f"claude-{n}")
        title = conv.get("name") if isinstance(conv.get("name"), str) and conv.get("name") else None
        for message in messages:
            if not isinstance(message, dict):
                raise ImportFormatError(f"{where}: a message that is not a JSON object")
            role = _CLAUDE_ROLES.get(str(message.get("sender")))
            text = _claude_text(message)
            if role is None or not text:
                continue
            when = message.get("created_at") or conv.get("created_at")
            if not isinstance(when, str):
                raise ImportFormatError(f"{where}: a message with no created_at, and none for the conversation")
            yield n, _episode("claude", user_id, session, title, message.get("uuid"), role, text, when)


READERS: dict[str, Callable[[Path, str], Records]] = {"chatgpt": chatgpt, "claude": claude}
