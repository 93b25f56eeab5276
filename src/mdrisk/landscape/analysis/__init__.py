"""The landscape analyses: pure functions from the corpus to typed result tables.

``analyse(corpus, rules, aliases)`` runs them all and returns the ``Landscape``.
"""

from mdrisk.landscape.analysis.landscape import analyse

__all__ = ["analyse"]
