"""``python -m hippodex`` runs the command line, like the ``hippodex`` script."""

from hippodex.cli import main

main()
