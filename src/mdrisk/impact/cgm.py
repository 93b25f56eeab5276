"""A continuous glucose monitor for a batch: simglucose's CGMSensor and CGMNoise, vectorised.

A reading is ``clip(BG + noise, min, max)`` taken every ``sample_time`` minutes
(:class:`~mdrisk.impact.params.SensorSpec`). With ``noise=False`` the reading is the clipped
BG itself.

The noise is simglucose's ``CGMNoise``, value for value: per patient a
``numpy.random.RandomState(seed)`` drives an AR(1) process sampled every 15 minutes
(``e0 = randn()``, ``e_k = PACF * (e_{k-1} + randn())``), each value goes through the Johnson
SU transform ``xi + lambda * sinh((e - gamma) / delta)``, and blocks of 11 such values
(150 minutes, each block starting with the last value of the previous one) are interpolated
to the sample time by a not-a-knot cubic spline, as ``scipy.interpolate.interp1d(kind='cubic')``
does. The spline is linear in its data, so it is one precomputed weight matrix here.

Alignment with simglucose's ``T1DSimEnv``: resetting the environment measures twice at
time 0, and the reading the controller first sees is the noise iterator's *second* value;
the reading at sample ``k`` (time ``k * sample_time``) is its value ``k + 1``. The same
alignment is used here, so a noisy run with the same seed sees the same noise as simglucose.

Noise is produced in 150-minute blocks as the run goes, so memory does not grow with the
run length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mdrisk.impact.params import SensorSpec

NOISE_MODEL_STEP_MIN = 15  # simglucose CGMNoise.MDL_SAMPLE_TIME
NOISE_BLOCK = 10  # simglucose CGMNoise.PRECOMPUTE: 15-minute values per block


def not_a_knot_weights(n_knots: int, spacing: float, at: np.ndarray) -> np.ndarray:
    """Weights ``W`` with ``spline(at) = W @ y`` for the not-a-knot cubic spline through
    ``y`` at knots ``0, spacing, ..., (n_knots - 1) * spacing``; shape ``(len(at), n_knots)``.
    """
    if n_knots < 4:
        raise ValueError("a not-a-knot cubic spline needs at least 4 knots")
    n, h = n_knots, float(spacing)
    # Second derivatives M solve A M = B y: the usual interior equations, plus continuity of
    # the third derivative at the second and the second-to-last knot (not-a-knot).
    a = np.zeros((n, n))
    b = np.zeros((n, n))
    a[0, :3] = (1.0, -2.0, 1.0)
    a[-1, -3:] = (1.0, -2.0, 1.0)
    for i in range(1, n - 1):
        a[i, i - 1 : i + 2] = (h, 4.0 * h, h)
        b[i, i - 1 : i + 2] = np.array((1.0, -2.0, 1.0)) * 6.0 / h
    moments = np.linalg.solve(a, b)  # M = moments @ y
    at = np.asarray(at, dtype=float)
    interval = np.clip((at // h).astype(int), 0, n - 2)
    left = interval * h
    u = at - left  # distance from the left knot
    v = h - u  # distance to the right knot
    weights = np.zeros((len(at), n))
    rows = np.arange(len(at))
    weights[rows, interval] += v / h
    weights[rows, interval + 1] += u / h
    coef_left = (v**3 / (6.0 * h) - h * v / 6.0)[:, None]
    coef_right = (u**3 / (6.0 * h) - h * u / 6.0)[:, None]
    weights += coef_left * moments[interval] + coef_right * moments[interval + 1]
    return weights


def row_seeds(seed: int | Sequence[int] | None, size: int) -> list[int]:
    """One 32-bit seed per row: ``seed + row`` for an int, the given list, or fresh entropy."""
    if seed is None:
        return [int(s) for s in np.random.SeedSequence().generate_state(size)]
    if isinstance(seed, int | np.integer):
        return [(int(seed) + row) % 2**32 for row in range(size)]
    seeds = [int(s) for s in seed]
    if len(seeds) != size:
        raise ValueError(f"{len(seeds)} seeds for a batch of {size} rows")
    return seeds


class CGMNoise:
    """simglucose's CGM noise sequence for every row of a batch, produced block by block."""

    def __init__(self, spec: SensorSpec, seeds: Sequence[int]) -> None:
        self.spec = spec
        self._random = [np.random.RandomState(s) for s in seeds]
        self._size = len(self._random)
        block_minutes = NOISE_BLOCK * NOISE_MODEL_STEP_MIN
        per_block = int(block_minutes // spec.sample_time) + 1
        at = np.arange(per_block) * float(spec.sample_time)
        # The first interpolated point is the block's starting value, already returned.
        self._weights = not_a_knot_weights(NOISE_BLOCK + 1, NOISE_MODEL_STEP_MIN, at)[1:]
        self._e = self._draw(1)[:, 0]
        self._last15 = self._johnson(self._e)
        self._buffer = np.zeros((self._size, 0))
        self._position = 0

    def _draw(self, count: int) -> np.ndarray:
        return np.array([r.randn(count) for r in self._random]).reshape(self._size, count)

    def _johnson(self, e: np.ndarray) -> np.ndarray:
        s = self.spec
        return s.xi + s.lambda_ * np.sinh((e - s.gamma) / s.delta)

    def _next_block(self) -> None:
        shocks = self._draw(NOISE_BLOCK)
        values = np.empty((self._size, NOISE_BLOCK + 1))
        values[:, 0] = self._last15
        e = self._e
        for k in range(NOISE_BLOCK):
            e = self.spec.PACF * (e + shocks[:, k])
            values[:, k + 1] = self._johnson(e)
        self._e = e
        self._last15 = values[:, -1]
        self._buffer = values @ self._weights.T
        self._position = 0

    def next(self) -> np.ndarray:
        """The next noise value of every row (mg/dL), shape ``(batch,)``."""
        if self._position == self._buffer.shape[1]:
            self._next_block()
        value = self._buffer[:, self._position]
        self._position += 1
        return value


class CGMSensor:
    """Readings of a batch: ``read(bg)`` at each sample time, noise-free or with noise."""

    def __init__(
        self,
        spec: SensorSpec,
        size: int,
        *,
        noise: bool = False,
        seed: int | Sequence[int] | None = None,
    ) -> None:
        self.spec = spec
        self.sample_time = spec.sample_time
        self._noise: CGMNoise | None = None
        if noise:
            self._noise = CGMNoise(spec, row_seeds(seed, size))
            self._noise.next()  # simglucose's environment spends the first value at reset

    def read(self, bg: np.ndarray) -> np.ndarray:
        """The reading for true glucose ``bg`` (mg/dL, shape ``(batch,)``) at a sample time."""
        value = bg if self._noise is None else bg + self._noise.next()
        value = np.maximum(value, self.spec.min_mg_dl)
        return np.minimum(value, self.spec.max_mg_dl)
