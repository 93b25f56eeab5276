"""``python -m mdrisk.cli``: the same as the ``mdrisk`` command."""

from mdrisk.cli.main import main

main(prog_name="mdrisk")
