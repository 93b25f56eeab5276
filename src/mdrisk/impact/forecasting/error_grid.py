"""Glucose error grids: the clinical meaning of a difference between a reference and an estimate.

Both take reference values (x, mg/dL) and estimates (y, mg/dL) and return one zone letter per
pair. Zones A and B are the clinically safe ones (no or benign effect on treatment); C leads to
unnecessary correction, D to a dangerous failure to treat, E to treatment opposite to what is
needed.

Clarke error grid (Clarke et al., Diabetes Care 1987;10:622-8), evaluated in this order:

* A: the estimate is within 20 % of the reference, or both are below 70;
* E: reference >= 180 and estimate <= 70, or reference <= 70 and estimate >= 180;
* C: 70 <= reference <= 290 and estimate >= reference + 110 (upper), or
  130 <= reference <= 180 and estimate <= 7/5 * reference - 182 (lower);
* D: reference >= 240 and 70 <= estimate <= 180, or reference <= 175/3 and
  70 <= estimate <= 180, or 175/3 <= reference <= 70 and estimate >= 6/5 * reference;
* B: everything else.

Parkes (consensus) error grid for type 1 diabetes (Parkes et al., Diabetes Care
2000;23:1143-8; vertices as tabulated by Pfützner et al., J Diabetes Sci Technol
2013;7:1275-81). Each zone border is a polyline; the upper borders are crossed going up, the
lower ones going down, and beyond the last vertex each border continues along its last segment.
A point on a border belongs to the better zone.

=====  ===================================================  ===============================
zone   upper border (x, y)                                  lower border (x, y)
=====  ===================================================  ===============================
A/B    (0,50) (30,50) (140,170) (280,380) (430,550)         (50,0) (50,30) (170,145)
                                                            (385,300) (550,450)
B/C    (0,60) (30,60) (50,80) (70,110) (260,550)            (120,0) (120,30) (260,130)
                                                            (550,250)
C/D    (0,100) (25,100) (50,125) (80,215) (125,550)         (250,0) (250,40) (550,150)
D/E    (0,150) (35,155) (50,550)                            (none)
=====  ===================================================  ===============================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ZONES = ("A", "B", "C", "D", "E")


def _as_pair(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(reference, dtype=float).ravel()
    y = np.asarray(estimate, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"{len(x)} reference values but {len(y)} estimates")
    return x, y


def clarke_zones(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Clarke zone letter of every (reference, estimate) pair, mg/dL."""
    x, y = _as_pair(reference, estimate)
    zone = np.full(x.shape, "B", dtype="<U1")
    undecided = np.ones(x.shape, dtype=bool)

    def assign(letter: str, mask: np.ndarray) -> None:
        chosen = undecided & mask
        zone[chosen] = letter
        undecided[chosen] = False

    assign("A", ((y >= 0.8 * x) & (y <= 1.2 * x)) | ((x < 70) & (y < 70)))
    assign("E", ((x >= 180) & (y <= 70)) | ((x <= 70) & (y >= 180)))
    assign(
        "C",
        ((x >= 70) & (x <= 290) & (y >= x + 110))
        | ((x >= 130) & (x <= 180) & (y <= 7.0 / 5.0 * x - 182)),
    )
    assign(
        "D",
        ((x >= 240) & (y >= 70) & (y <= 180))
        | ((x <= 175.0 / 3.0) & (y >= 70) & (y <= 180))
        | ((x >= 175.0 / 3.0) & (x <= 70) & (y >= 6.0 / 5.0 * x)),
    )
    return zone


@dataclass(frozen=True)
class _Border:
    """A zone border as a polyline whose x values never decrease."""

    points: tuple[tuple[float, float], ...]

    def at(self, x: np.ndarray) -> np.ndarray:
        """The border's y at each x (the last segment extended beyond the last vertex);
        -inf left of a lower border that starts with a vertical segment."""
        xs = np.array([p[0] for p in self.points])
        ys = np.array([p[1] for p in self.points])
        # A vertical first segment ((50,0)-(50,30)): the border starts at its top.
        if xs[0] == xs[1]:
            xs, ys = xs[1:], ys[1:]
            start = xs[0]
        else:
            start = -np.inf
        y = np.interp(x, xs, ys)
        slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        beyond = x > xs[-1]
        y = np.where(beyond, ys[-1] + slope * (x - xs[-1]), y)
        return np.where(x < start, -np.inf, y)


_PARKES_TYPE1_UPPER = {
    "B": _Border(((0, 50), (30, 50), (140, 170), (280, 380), (430, 550))),
    "C": _Border(((0, 60), (30, 60), (50, 80), (70, 110), (260, 550))),
    "D": _Border(((0, 100), (25, 100), (50, 125), (80, 215), (125, 550))),
    "E": _Border(((0, 150), (35, 155), (50, 550))),
}
_PARKES_TYPE1_LOWER = {
    "B": _Border(((50, 0), (50, 30), (170, 145), (385, 300), (550, 450))),
    "C": _Border(((120, 0), (120, 30), (260, 130), (550, 250))),
    "D": _Border(((250, 0), (250, 40), (550, 150))),
}


def parkes_zones(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Parkes (consensus) zone letter, type 1 diabetes, of every pair, mg/dL."""
    x, y = _as_pair(reference, estimate)
    zone = np.full(x.shape, "A", dtype="<U1")
    for letter in ("B", "C", "D", "E"):  # worse zones overwrite better ones
        crossed = y > _PARKES_TYPE1_UPPER[letter].at(x)
        lower = _PARKES_TYPE1_LOWER.get(letter)
        if lower is not None:
            crossed |= y < lower.at(x)
        zone[crossed] = letter
    return zone


def zone_shares(zones: Sequence[str] | np.ndarray) -> dict[str, float]:
    """Share of the pairs in each zone (0-1), every zone listed."""
    zones = np.asarray(zones)
    total = max(len(zones), 1)
    return {letter: float(np.count_nonzero(zones == letter)) / total for letter in ZONES}
