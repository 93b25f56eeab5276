"""The signal tap that runs attacks: each attack on its own rows of the batch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mdrisk.impact.attacks.base import Attack, AttackContext


class AttackTap:
    """Applies ``attacks`` to the signals they target, in the order given.

    ``rows[i]`` is a boolean mask (or row indices) of the rows attack ``i`` acts on; ``None``
    means every row. Masks are checked against the batch size when the run starts.
    """

    def __init__(
        self,
        attacks: Sequence[Attack],
        sample_time_min: int,
        rows: Sequence[np.ndarray | Sequence[int] | None] | None = None,
    ) -> None:
        self.attacks = tuple(attacks)
        self.sample_time_min = int(sample_time_min)
        given = list(rows) if rows is not None else [None] * len(self.attacks)
        if len(given) != len(self.attacks):
            raise ValueError(f"{len(given)} row masks for {len(self.attacks)} attacks")
        self._rows_given = given
        self._rows: list[np.ndarray] = []

    def reset(self, batch_size: int) -> None:
        self._rows = []
        for attack, rows in zip(self.attacks, self._rows_given, strict=True):
            mask = np.ones(batch_size, dtype=bool)
            if rows is not None:
                given = np.asarray(rows)
                if given.dtype == bool:
                    if given.shape != (batch_size,):
                        raise ValueError(
                            f"row mask of shape {given.shape} for a batch of {batch_size}"
                        )
                    mask = given
                else:
                    mask = np.zeros(batch_size, dtype=bool)
                    mask[given.astype(int)] = True
            self._rows.append(mask)
            attack.reset(AttackContext(size=batch_size, sample_time_min=self.sample_time_min))

    def apply(self, signal: str, t_minutes: float, values: np.ndarray) -> np.ndarray:
        if not self._rows:
            self.reset(len(values))
        for attack, rows in zip(self.attacks, self._rows, strict=True):
            if attack.signal == signal:
                values = attack.apply(t_minutes, values, rows)
        return values
