"""One small interface for every output format: a writer turns an Assessment into bytes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from mdrisk.assessment import Assessment


class PdfEngineMissing(RuntimeError):
    """Neither WeasyPrint nor a Chromium browser is installed."""


class ReportWriter(ABC):
    """A format. Adding one is a new file with a subclass, registered by name in ``writers``."""

    name: ClassVar[str]
    file_name: ClassVar[str]

    @abstractmethod
    def render(self, assessment: Assessment) -> bytes:
        """The whole document. Pure: no I/O, the same assessment gives the same bytes."""

    def render_files(self, assessment: Assessment) -> dict[str, bytes]:
        """Every file the format writes, by path inside the output folder. One file unless
        the format is a set of files (CSV: one per table)."""
        return {self.file_name: self.render(assessment)}
