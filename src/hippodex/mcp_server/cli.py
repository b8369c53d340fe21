"""``hippodex mcp``: serve one memory file to MCP clients, over stdio or streamable HTTP.

The ``mcp`` SDK is imported only when the command runs; without it the
command exits with code 2 and the install command. In stdio mode stdout is
the protocol channel, so every log line goes to stderr.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from hippodex.config import RecallConfig
from hippodex.encode.registry import DEFAULT_ENCODER, ENCODERS
from hippodex.ingest.normalize import check_id
from hippodex.memory import Memory
from hippodex.store.open import redact

_INSTALL = "pip install 'hippodex[mcp]'"
_ENCODERS = ", ".join([*ENCODERS, "st:<model>"])


def mcp(
    db: Annotated[
        str, typer.Option(help="The memory file (created if missing; use an absolute path), or a postgresql:// URL.")
    ],
    user: Annotated[
        str, typer.Option("--user", "-u", help="The user whose memory the tools use by default.", show_default=False)
    ],
    encoder: Annotated[
        str, typer.Option(help=f"Encoder for dense recall ({_ENCODERS}), or 'none' for lexical only.")
    ] = DEFAULT_ENCODER,
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP at /mcp instead of stdio.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on with --http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on with --http.")] = 8766,
    cross_encoder: Annotated[
        str | None,
        typer.Option(
            "--cross-encoder",
            help="Re-read each recall's best 40 candidates with a cross-encoder: 'ms-marco' or a model folder.",
        ),
    ] = None,
) -> None:
    """Serve the memory to MCP clients (chat apps, coding agents).

    Tools: remember, recall, context, forget, recent_sessions, facts.
    """
    # Checked before serving: a bad --user would otherwise fail every tool call (exit 2, as a bad --db does).
    check_id(user, "--user")
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        from hippodex.mcp_server.server import build_server
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("mcp", "mcp_types"):
            raise
        typer.echo(f"error: the MCP server needs the mcp package: {_INSTALL}", err=True)
        raise typer.Exit(2) from None
    config = RecallConfig(cross_encoder=cross_encoder)
    with Memory(db, encoder=None if encoder == "none" else encoder, config=config) as memory:
        server = build_server(memory, default_user=user)
        if http:
            typer.echo(f"hippodex mcp: serving {redact(db)} at http://{host}:{port}/mcp", err=True)
            server.run("streamable-http", host=host, port=port)
        else:
            server.run("stdio")


def register(app: typer.Typer) -> None:
    """Add the ``mcp`` command to the ``hippodex`` CLI."""
    app.command("mcp")(mcp)
