"""``hippodex serve`` and ``hippodex keys``: registered into the main CLI by :func:`register`.

FastAPI and uvicorn are imported only when ``serve`` runs; without them it
exits with code 2 and the install command.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Annotated

import typer

from hippodex._exceptions import ValidationError
from hippodex.config import RecallConfig, default_db_path
from hippodex.encode.registry import DEFAULT_ENCODER, ENCODERS
from hippodex.server.keys import KeyStore
from hippodex.store.open import redact

__all__ = ["is_loopback", "register"]

_ENCODER_CHOICES = ", ".join([*ENCODERS, "none"])
DbOpt = Annotated[
    str | None,
    typer.Option(help="The memory file, or a postgresql:// URL (default: $HIPPODEX_DB, else ./memory.db)."),
]
HostOpt = Annotated[str, typer.Option(help="Address to listen on; anything but loopback needs API keys.")]
PortOpt = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]
NoAuthOpt = Annotated[bool, typer.Option("--no-auth", help="Serve without API keys (loopback hosts only).")]
EncoderOpt = Annotated[str, typer.Option(help=f"Encoder for dense recall: {_ENCODER_CHOICES}.")]
MaxBodyOpt = Annotated[int, typer.Option(min=1, help="Largest request body accepted, in bytes.")]
CrossOpt = Annotated[
    str | None,
    typer.Option(
        "--cross-encoder",
        help="Re-read each search's best 40 candidates with a cross-encoder: 'ms-marco' "
        "(about 300 ms a search on two cores) or a model folder.",
    ),
]
KeyUserOpt = Annotated[
    list[str] | None, typer.Option("--user", "-u", help="A user_id the key may access (repeatable).")
]
AdminOpt = Annotated[bool, typer.Option("--admin", help="The key may access every user.")]
NameOpt = Annotated[str | None, typer.Option(help="A label to recognise the key by.")]
KeyIdArg = Annotated[str, typer.Argument(help="The key's id (from `hippodex keys list`).", metavar="KEY_ID")]

INSTALL_HINT = "hippodex serve needs FastAPI and uvicorn: pip install 'hippodex[server]'"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _path(db: str | None) -> str:
    return str(db if db is not None else default_db_path())


def serve(
    db: DbOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8765,
    no_auth: NoAuthOpt = False,
    encoder: EncoderOpt = DEFAULT_ENCODER,
    max_body_bytes: MaxBodyOpt = 1_000_000,
    cross_encoder: CrossOpt = None,
) -> None:
    """Serve the memory over HTTP (REST API at /v1, OpenAPI docs at /docs)."""
    if no_auth and not is_loopback(host):
        typer.echo(
            f"error: --no-auth would let anyone who can reach {host} read and erase every memory; "
            "use it only with --host 127.0.0.1 (or ::1), or create a key with `hippodex keys create`",
            err=True,
        )
        raise typer.Exit(2)
    if encoder != "none" and encoder not in ENCODERS:
        raise typer.BadParameter(f"unknown encoder {encoder!r}; choose from {_ENCODER_CHOICES}", param_hint="--encoder")
    try:
        import uvicorn

        from hippodex.server.rest import create_app
    except ImportError:
        typer.echo(f"error: {INSTALL_HINT}", err=True)
        raise typer.Exit(2) from None
    from hippodex.memory import Memory

    path = _path(db)
    # Requests run in a thread pool; one onnxruntime thread per request beats
    # every request fanning out over all cores (bench load, 50 clients, 30 s: 81 vs 74 req/s).
    os.environ.setdefault("HIPPODEX_ENCODER_THREADS", "1")
    memory = Memory(
        path, encoder=None if encoder == "none" else encoder, config=RecallConfig(cross_encoder=cross_encoder)
    )
    keys = None if no_auth else KeyStore(path)
    if keys is not None and not any(not k.revoked for k in keys.list()):
        typer.echo(
            f"warning: {redact(path)} has no API keys yet, so every /v1 request will get 401; "
            f"create one with: hippodex keys create --db {redact(path)} --user <user_id>",
            err=True,
        )
    app = create_app(memory, auth=keys, max_body_bytes=max_body_bytes)
    mode = "WITHOUT API keys (loopback only)" if no_auth else "with API keys"
    typer.echo(f"hippodex serving {redact(path)} on http://{host}:{port} {mode}; docs at /docs", err=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        if keys is not None:
            keys.close()
        memory.close()


keys_app = typer.Typer(no_args_is_help=True, help="Create, list and revoke the API keys of `hippodex serve`.")


@keys_app.command("create")
def keys_create(user: KeyUserOpt = None, admin: AdminOpt = False, name: NameOpt = None, db: DbOpt = None) -> None:
    """Create an API key for some users (or --admin for all); the key is printed once, last."""
    if not user and not admin:  # KeyStore says the same in the Python API's words
        raise ValidationError("name the users the key is for with --user (once per user), or give --admin")
    with KeyStore(_path(db)) as store:
        key_id, plaintext = store.create(list(user or []), admin=admin, name=name)
    scope = "every user (admin)" if admin else ", ".join(user or [])
    typer.echo(f"created {key_id} for {scope}; store the key now, it is not shown again:")
    typer.echo(f"key: {plaintext}")


@keys_app.command("list")
def keys_list(db: DbOpt = None) -> None:
    """List API keys (ids, names, users; never the keys themselves)."""
    with KeyStore(_path(db)) as store:
        found = store.list()
    if not found:
        typer.echo("no API keys; create one with: hippodex keys create --user <user_id>")
    for k in found:
        users = "*" if k.admin else ",".join(k.user_ids)
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
        typer.echo(f"{k.id}  {state:<24} users={users}  name={k.name or '-'}  created={k.created_at:%Y-%m-%d %H:%M}")


@keys_app.command("revoke")
def keys_revoke(key_id: KeyIdArg, db: DbOpt = None) -> None:
    """Revoke an API key at once."""
    with KeyStore(_path(db)) as store:
        store.revoke(key_id)
    typer.echo(f"revoked {key_id}")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``keys`` to the ``hippodex`` command."""
    app.command()(serve)
    app.add_typer(keys_app, name="keys")
