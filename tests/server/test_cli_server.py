"""``hippodex keys`` and ``hippodex serve`` from the command line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hippodex.cli import app
from hippodex.client import AuthError, Client
from hippodex.server.cli import is_loopback
from hippodex.server.keys import KeyStore


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_keys_create_list_revoke(db_target: str, running: Any) -> None:
    db = db_target
    created = run("keys", "create", "--db", db, "--user", "ana", "--user", "bob", "--name", "agent")
    assert created.exit_code == 0, created.output
    plaintext = created.output.strip().splitlines()[-1].split()[-1]
    assert plaintext.startswith("hdx_") and len(plaintext) == 36

    listed = run("keys", "list", "--db", db)
    assert "users=ana,bob" in listed.output and "agent" in listed.output and plaintext not in listed.output
    key_id = listed.output.split()[0]

    from hippodex import Memory
    from hippodex.server import create_app

    with (
        Memory(db, encoder=None) as memory,
        KeyStore(db) as keys,
        running(create_app(memory, auth=keys)) as url,
        Client(url, plaintext) as c,
    ):
        assert c.add("hello", user_id="bob")[0].content == "hello"
        assert run("keys", "revoke", key_id, "--db", db).exit_code == 0
        with pytest.raises(AuthError):
            c.list(user_id="bob")
    assert "revoked" in run("keys", "list", "--db", db).output


def test_keys_errors_exit_2(db_target: str) -> None:
    db = db_target
    bare = run("keys", "create", "--db", db)  # neither --user nor --admin: said in the CLI's words
    assert bare.exit_code == 2 and "--user" in bare.output and "--admin" in bare.output
    result = run("keys", "revoke", "key_missing", "--db", db)
    assert result.exit_code == 2 and "no API key" in result.output


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_no_auth_refused_off_loopback(tmp_path: Path, host: str) -> None:
    result = run("serve", "--db", str(tmp_path / "m.db"), "--host", host, "--no-auth", "--encoder", "none")
    assert result.exit_code == 2 and "--no-auth" in result.output
    assert not (tmp_path / "m.db").exists()


def test_is_loopback() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.5.5.5", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "::", "example.com"))


def test_serve_without_fastapi_prints_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = run("serve", "--db", str(tmp_path / "m.db"), "--encoder", "none")
    assert result.exit_code == 2 and "pip install 'hippodex[server]'" in result.output


def test_serve_refuses_a_cross_encoder_it_cannot_find(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["serve", "--db", str(tmp_path / "m.db"), "--encoder", "none", "--cross-encoder", str(tmp_path)],
        env={"COLUMNS": "250"},
    )
    assert result.exit_code == 2 and "model.onnx is missing" in result.output
    assert not (tmp_path / "m.db").exists()


@pytest.mark.parametrize("extra", [[], ["--cross-encoder", "ms-marco"]], ids=["plain", "cross-encoder"])
def test_serve_no_auth_on_loopback(tmp_path: Path, extra: list[str]) -> None:
    """The real command in a subprocess: starts, answers without a key, stops."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [
        sys.executable,
        "-c",
        "from hippodex.cli import main; main()",
        "serve",
        "--db",
        str(tmp_path / "m.db"),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen([*cmd, "--no-auth", "--encoder", "none", *extra], stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/health")
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        with Client(url) as c:
            c.add("no key needed on loopback", user_id="me")
            c.add("the loopback address is 127.0.0.1", user_id="me")
            hits = c.search("Which address is the loopback?", user_id="me")
            assert hits[0].episode.content == "the loopback address is 127.0.0.1" and len(hits) == 2
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "WITHOUT API keys" in err
