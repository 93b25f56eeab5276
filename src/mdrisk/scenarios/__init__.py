"""Attack scenarios: attacker entry -> exploit -> false data -> ML misbehaviour -> UCA -> hazard
-> loss (``generate.generate_scenarios``), from the attacker profiles and scenario rules in
``mdrisk/data/``.

The records the stage writes live in ``mdrisk.assessment.scenarios``.
"""
