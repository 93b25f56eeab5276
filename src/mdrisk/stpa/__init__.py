"""STPA-Sec: control actions, unsafe control actions, FDI points, loss scenarios, checks."""

from mdrisk.stpa.engine import StpaResult, analyze_stpa

__all__ = ["StpaResult", "analyze_stpa"]
