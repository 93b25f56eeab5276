"""A campaign expanded into tasks: the same tasks, in the same order, for the same file.

Each task is one class x one attack x a block of patients x a block of days, sized to carry
about ``batch_patient_days`` patient-days (the simulator is vectorised across rows, so a
few hundred rows amortise a task's scheduling and set-up). Its key names exactly that, and
its randomness comes from the campaign seed and the (patient, day) pairs the key names, never
from the order tasks run in or the worker that runs them.
"""

from __future__ import annotations

import math

from mdrisk.campaign.batch import TaskSpec
from mdrisk.campaign.spec import Campaign


def _blocks(count: int, size: int) -> list[range]:
    """``range(count)`` cut into ``ceil(count / size)`` blocks of nearly equal length."""
    parts = math.ceil(count / size)
    bounds = [round(i * count / parts) for i in range(parts + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(parts)]


def block_shape(campaign: Campaign) -> tuple[list[range], list[range]]:
    """Patient blocks and day blocks: whole days of as many patients as fit, else blocks
    of days of one patient."""
    target = campaign.batch_patient_days
    days = _blocks(campaign.days, target)
    per_block = max(1, target // len(days[0]))
    patients = _blocks(len(campaign.patients), per_block)
    return patients, days


def expand(campaign: Campaign) -> list[TaskSpec]:
    """Every task of ``campaign``, class-major, then attack, patient block, day block."""
    patient_blocks, day_blocks = block_shape(campaign)
    tasks: list[TaskSpec] = []
    for scenario_class in campaign.classes:
        for attack in scenario_class.attacks:
            for patients in patient_blocks:
                names = tuple(campaign.patients[i] for i in patients)
                for days in day_blocks:
                    key = (
                        f"{scenario_class.key} | {attack} | {names[0]}..{names[-1]} | "
                        f"days {days.start}-{days.stop - 1}"
                    )
                    tasks.append(
                        TaskSpec(
                            key=key,
                            ordinal=len(tasks),
                            class_key=scenario_class.key,
                            attack=attack,
                            patients=names,
                            first_day=days.start,
                            days=len(days),
                            seed=campaign.seed,
                            controller=campaign.controller,
                            meals=campaign.meals,
                            variability=campaign.variability,
                            fingerstick=campaign.fingerstick,
                            detectors=campaign.detectors,
                            controls=campaign.controls,
                        )
                    )
    return tasks
