"""Readers: a device document file in, its visible text as located blocks out."""

from mdrisk.intake.readers.detect import read_document

__all__ = ["read_document"]
