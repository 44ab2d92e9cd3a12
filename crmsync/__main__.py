"""``python -m crmsync`` runs the command line."""

from crmsync.cli import main

main()
