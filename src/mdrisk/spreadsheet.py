"""Cells a spreadsheet must show as text: a CSV cell that starts like a formula (``=``,
``+``, ``-``, ``@``, tab or carriage return) gets an apostrophe in front, so text from a
device model, an advisory or a public data set never runs when an analyst opens the file
(CWE-1236). Every CSV mdrisk writes goes through :func:`formula_safe`."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_START) else cell
