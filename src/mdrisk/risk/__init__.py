"""Risk scoring: CVSS 3.1/4.0, the medical-device CVSS rubric, an ISO 14971-style matrix.

Only the records are imported here (``mdrisk.assessment`` holds them); the stage itself is
``mdrisk.risk.engine.assess_risks``.
"""

from mdrisk.risk.records import RiskItem

__all__ = ["RiskItem"]
