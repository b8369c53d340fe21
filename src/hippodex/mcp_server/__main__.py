"""``python -m hippodex.mcp_server --db F --user U`` is ``hippodex mcp --db F --user U``.

Useful where the ``hippodex`` script is not on the PATH, e.g. ``[sys.executable, "-m", "hippodex.mcp_server", ...]``.
"""

import sys

from hippodex.cli import app

if __name__ == "__main__":
    app(args=["mcp", *sys.argv[1:]], prog_name="hippodex")
