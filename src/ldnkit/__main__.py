"""Allow `python -m ldnkit ...`."""

from ldnkit.cli import run

run()
