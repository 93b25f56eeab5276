"""The ``mdrisk`` command (console script ``mdrisk = "mdrisk.cli:main"``): one module per
command group, each a thin wrapper over the stages; see :mod:`mdrisk.cli.main`."""

from mdrisk.cli.main import main

__all__ = ["main"]
