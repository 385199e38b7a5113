"""``python -m ztai`` runs the CLI."""

from ztai.cli.main import run

run()
