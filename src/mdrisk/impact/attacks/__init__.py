"""False-data injection models: one file per family, registered by name (garak style).

Families: bias, scale, ramp, drift, replay, freeze, noise, spoof, drop, tamper. Each subclasses
:class:`~mdrisk.impact.attacks.base.Attack`; :mod:`.spec` reads attack specs such as
``bias:+60@cgm,08:00-14:00`` into :class:`AttackPlan`\\ s, and :class:`AttackTap` runs attacks
inside the simulator, each on its own rows of a batch.
"""

from mdrisk.impact.attacks import (  # noqa: F401 (importing a family registers it)
    bias,
    drift,
    drop,
    freeze,
    noise,
    ramp,
    replay,
    scale,
    spoof,
    tamper,
)
from mdrisk.impact.attacks.base import ATTACKS, Attack, AttackContext, ParamError, Window
from mdrisk.impact.attacks.spec import (
    AttackPlan,
    AttackSpec,
    SpecError,
    load_attack_file,
    parse_attack,
    parse_plan,
    plans_from_texts,
)
from mdrisk.impact.attacks.tap import AttackTap

__all__ = [
    "ATTACKS",
    "Attack",
    "AttackContext",
    "AttackPlan",
    "AttackSpec",
    "AttackTap",
    "ParamError",
    "SpecError",
    "Window",
    "load_attack_file",
    "parse_attack",
    "parse_plan",
    "plans_from_texts",
]
