"""The interface every landscape importer implements: parse one file whole, or refuse it.

A refusal is an ``InputError`` naming the file, the record (a line, an index, a submission or
report number) and what is wrong; nothing is skipped quietly. Values that are readable but
odd (a CVE list with a typo in a third-party table) become ``DataNote``s that the output
lists with file and record.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from mdrisk.landscape.records import DataNote
from mdrisk.parsing.shape import located_refusals

T = TypeVar("T")


@dataclass
class Parsed(Generic[T]):
    records: list[T]
    notes: list[DataNote] = field(default_factory=list)


class LandscapeImporter(ABC, Generic[T]):
    name: ClassVar[str]
    description: ClassVar[str]

    def parse(self, path: Path) -> Parsed[T]:
        """Every record of the file, or InputError(file, problems). Reads; writes nothing."""
        with located_refusals(path):
            return self.read(path)

    @abstractmethod
    def read(self, path: Path) -> Parsed[T]:
        """The format's own reading. A wrong shape may be raised as ``parsing.shape.Shape``
        (``parse`` names the file); any other refusal as an InputError."""


def label(path: Path) -> str:
    """How records name their file: the folder and the file name."""
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name
