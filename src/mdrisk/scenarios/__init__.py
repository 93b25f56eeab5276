"""Attack scenarios: attacker entry -> exploit -> false data -> ML misbehaviour -> UCA -> hazard
-> loss (``generate.generate_scenarios``), from the attacker profiles and scenario rules in
``mdrisk/data/``.

Nothing is imported here: ``assessment.py`` imports ``scenarios.records``, and the generator
imports ``assessment``, so an eager import would be a cycle.
"""
