"""The one interface every importer implements: recognise a file by content, parse it whole.

``sniff`` looks at the first bytes only, so a truncated or broken file of a known format is
still recognised and then refused by ``parse`` with a message naming file and record:
``parse`` runs the importer's ``read`` and turns what it raises into a located InputError,
so an importer keeps only its format's own checks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from mdrisk.kb.records import ImportBatch
from mdrisk.parsing.shape import located_refusals

HEAD_BYTES = 65536


class Importer(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    # A file of this format is a whole catalogue in one document (CWE, CAPEC, ATT&CK, ATLAS,
    # KEV): a release with fewer entries than the stored one is refused without --replace,
    # and the stored copy counts as "unchanged" only while it is still the one in the store.
    whole_catalogue: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def sniff(cls, head: str, path: Path) -> bool:
        """True when ``head`` (the file's first characters) is this importer's format."""

    def parse(self, path: Path) -> list[ImportBatch]:
        """Every batch in the file, or InputError(file, problems) naming the record at fault.

        Pure: reads the file, writes nothing.
        """
        with located_refusals(path):
            return self.read(path)

    @abstractmethod
    def read(self, path: Path) -> list[ImportBatch]:
        """The format's own reading. A wrong shape may be raised as ``parsing.shape.Shape``
        (``parse`` names the file); any other refusal as an InputError."""
