"""mdrisk: premarket cybersecurity risk assessment of AI/ML-enabled medical devices."""

__version__ = "0.1.0"
