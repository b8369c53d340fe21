"""Memory for MCP clients: the ``hippodex mcp`` server.

:func:`build_server` wraps a :class:`hippodex.Memory` in an MCP server with
six tools (``remember``, ``recall``, ``context``, ``forget``, ``recent_sessions``,
``facts``) and two resources (``memory://sessions`` and
``memory://sessions/{session_id}``).
The ``mcp`` SDK is an extra (``pip install 'hippodex[mcp]'``); importing this
package does not import it, only calling :func:`build_server` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hippodex.mcp_server.server import build_server

__all__ = ["build_server"]


def __getattr__(name: str) -> Any:
    if name == "build_server":  # lazily, so `hippodex --help` works without the mcp extra
        from hippodex.mcp_server.server import build_server

        return build_server
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
