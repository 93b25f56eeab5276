"""Attacks run on a device's own ML model, constrained by what STPA says the attacker at
each false-data injection point controls.

The model file is untrusted input (``artifact``: skops with an allow-list of types, ONNX
through onnxruntime, never pickle); the attacker's capability comes from the FDI points
(``capability``); evasion, poisoning, tampering and privacy attacks run through the
Adversarial Robustness Toolbox where it has them, and every produced example is checked
against the capability (``constraints``). Needs the ``ml`` extra.
"""
