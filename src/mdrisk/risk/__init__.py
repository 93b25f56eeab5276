"""Risk scoring: CVSS 3.1/4.0, the medical-device CVSS rubric, an ISO 14971-style matrix.

The stage is ``mdrisk.risk.engine.assess_risks``; the records it writes live in
``mdrisk.assessment.risk``.
"""
