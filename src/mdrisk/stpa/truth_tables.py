"""The truth tables of signed influence, as data: how each kind of signal can be falsified,
what each falsification does to the value the controller sees, and which unsafe control
action types each outcome can cause.

Read as: a ``measurement`` can be raised, lowered, frozen or suppressed; raising it
moves its value ``up``; a value that went ``up`` through a chain of signed effects makes the
controller overestimate a belief, and an overestimated belief that ``increases`` the need for
an action gives ``provided_unsafe`` (``stpa.signed`` does that arithmetic). Outcomes that do
not carry a sign (stale, late, missing, either way) map to UCA types directly.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from mdrisk.model.schema import SignalNature, UCAType

# What reaches the controller after a manipulation.
UP, DOWN, EITHER = "up", "down", "either"  # signed: follows the chain of effects
STALE, MISSING, REPEATED = "stale", "missing", "repeated"  # unsigned

# Manipulations each nature of data allows, and the outcome of each. Events cannot freeze;
# a sporadic reading has no stream to stall; a model is swapped, not nudged. A stream held
# back is not its own case: until the late values arrive the controller acts on the last one
# it had, which is what ``freeze`` stands for (stuck, held back or replayed old values); its
# controls are the same (fresh, authenticated timestamps or sequence numbers).
DATA_MANIPULATIONS: Final = MappingProxyType(
    {
        SignalNature.measurement: {
            "raise": UP,
            "lower": DOWN,
            "freeze": STALE,
            "suppress": MISSING,
        },
        SignalNature.reading: {"raise": UP, "lower": DOWN},
        # A delayed event is a suppressed one until it arrives, so delay is not its own case.
        SignalNature.event: {"spoof": UP, "suppress": DOWN},
        SignalNature.setting: {"tamper": EITHER},
        SignalNature.image: {"tamper": EITHER},
        # A stream of frames: altered, stale (looped recorded frames, frozen or late) or cut.
        SignalNature.video: {
            "tamper": EITHER,
            "freeze": STALE,
            "suppress": MISSING,
        },
        SignalNature.record: {"tamper": EITHER},
        SignalNature.identifier: {"swap": EITHER},
        SignalNature.model: {"substitute": EITHER},
    }
)

# An ML output on its way to a person or display, by the engine's task type.
OUTPUT_MANIPULATIONS: Final = MappingProxyType(
    {
        "numeric": {"raise": UP, "lower": DOWN, "suppress": MISSING},
        "categorical": {"tamper": EITHER, "suppress": MISSING},
    }
)
NUMERIC_TASKS: Final = frozenset({"regression", "forecasting"})

# The model itself: its own error or drift, a substituted file, poisoned field data.
MODEL_MANIPULATIONS: Final = MappingProxyType(
    {"error": EITHER, "substitute": EITHER, "poison": EITHER}
)

# Unsigned outcomes and the UCA types they can cause. A stale value lets an action run on
# past its time or start late; a missing one leaves the action undecided.
UNSIGNED_UCAS: Final = MappingProxyType(
    {
        STALE: (UCAType.wrong_timing, UCAType.wrong_duration),
        MISSING: (UCAType.not_provided,),
        REPEATED: (UCAType.provided_unsafe, UCAType.wrong_timing),
    }
)

# The control path: what a manipulated control action becomes, by manipulation. ``raise``
# and ``lower`` exist only for an action with an amount (a dose); ``delay``, ``replay`` and
# ``freeze`` only on a channel between machines (a screen shown to a person is shown or not).
# A replayed command is an extra copy of one already carried out, so it is an action given
# when not called for; a command held back and released late is ``delay``.
CONTROL_PATH_UCAS: Final = MappingProxyType(
    {
        "spoof": (UCAType.provided_unsafe,),
        "suppress": (UCAType.not_provided,),
        "raise": (UCAType.provided_unsafe,),
        "lower": (UCAType.not_provided,),
        "delay": (UCAType.wrong_timing,),
        "replay": (UCAType.provided_unsafe,),
        "freeze": (UCAType.wrong_duration,),
    }
)
AMOUNT_MANIPULATIONS: Final = frozenset({"raise", "lower"})
CHANNEL_MANIPULATIONS: Final = frozenset({"delay", "replay", "freeze"})
CONTINUOUS_MANIPULATIONS: Final = frozenset({"freeze"})

# Manipulations that can attribute data to the wrong patient or sample, by nature ("*": any;
# "command": a control action on its way). Other manipulations cannot bring about a hazard
# that ``concerns: identity``.
MISATTRIBUTING: Final = frozenset(
    {
        ("swap", "*"),
        ("tamper", SignalNature.record.value),
        ("tamper", SignalNature.image.value),
        ("tamper", SignalNature.identifier.value),
        ("spoof", "command"),
        ("replay", "command"),
    }
)

# Why a UCA type cannot occur for an action of a given nature.
NOT_APPLICABLE: Final = MappingProxyType(
    {
        SignalNature.discrete: {
            UCAType.wrong_duration.value: "a discrete action is given at once and has no "
            "duration to stop too soon or apply too long",
        },
    }
)
