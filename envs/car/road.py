"""Procedurally generated roads: a curvature profile along the arc length and its centreline.

A road is a sequence of straights and curves; each curve enters and leaves through a clothoid
(curvature changing linearly with distance), as roads are built. The profile is sampled every
``spacing`` metres and linearly interpolated in between. The centreline (position and heading in
a fixed world frame, starting at the origin heading along +x) is the integral of the profile; it
is used only for drawing, the dynamics need the curvature alone.
"""

from __future__ import annotations

import math

import numpy as np

#: Length ranges (m) of the pieces of a generated road.
STRAIGHT_RANGE = (0.0, 60.0)
TRANSITION_RANGE = (10.0, 30.0)
ARC_RANGE = (15.0, 90.0)
#: Curvature magnitude of each curve, as a fraction of the maximum curvature.
CURVE_FRACTION_RANGE = (0.3, 1.0)
#: Straight at the start of every road (m), so that the car starts on a straight.
START_STRAIGHT = 30.0


class Road:
    """The centreline of one road, sampled every ``spacing`` metres.

    :param curvature: curvature (1/m, positive to the left) at ``s = i * spacing``, shape ``[N]``.
    :param spacing: distance between samples (m).
    """

    def __init__(self, curvature: np.ndarray, spacing: float = 1.0) -> None:
        if curvature.ndim != 1 or curvature.size < 2:
            raise ValueError(f"curvature must be a 1-D array of at least 2 samples, got shape {curvature.shape}")
        if spacing <= 0:
            raise ValueError(f"spacing must be positive, got {spacing}")
        self.spacing = float(spacing)
        self.curvature = np.asarray(curvature, dtype=np.float64)
        self._curvature_list: list[float] = self.curvature.tolist()
        # Heading and position by the trapezoidal rule (exact for a piecewise linear profile heading).
        steps = 0.5 * (self.curvature[1:] + self.curvature[:-1]) * spacing
        self.heading = np.concatenate([[0.0], np.cumsum(steps)])
        mid_heading = np.concatenate([[0.0], 0.5 * (self.heading[1:] + self.heading[:-1])])
        self.x = np.cumsum(np.cos(mid_heading) * np.r_[0.0, np.full(self.curvature.size - 1, spacing)])
        self.y = np.cumsum(np.sin(mid_heading) * np.r_[0.0, np.full(self.curvature.size - 1, spacing)])
        self.s = np.arange(self.curvature.size) * spacing

    @property
    def length(self) -> float:
        """:return: the length of the road (m)."""
        return float(self.s[-1])

    def curvature_at(self, s: float) -> float:
        """Curvature at one arc length (fast scalar path used inside the dynamics).

        :param s: arc length (m); clamped to the road.
        :return: curvature (1/m).
        """
        u = s / self.spacing
        if u <= 0.0:
            return self._curvature_list[0]
        i = int(u)
        if i >= len(self._curvature_list) - 1:
            return self._curvature_list[-1]
        k0 = self._curvature_list[i]
        return k0 + (u - i) * (self._curvature_list[i + 1] - k0)

    def curvature_ahead(self, s: float, distances: np.ndarray) -> np.ndarray:
        """Curvature at several distances ahead.

        :param s: arc length of the car (m).
        :param distances: distances ahead (m), shape ``[K]``.
        :return: curvatures (1/m), shape ``[K]``.
        """
        return np.interp(s + distances, self.s, self.curvature)

    def window(self, s0: float, s1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The centreline samples between two arc lengths.

        :param s0: first arc length (m).
        :param s1: last arc length (m).
        :return: ``(s, x, y, heading)``, each of shape ``[K]``.
        """
        i0 = max(0, int(math.floor(s0 / self.spacing)))
        i1 = min(self.curvature.size, int(math.ceil(s1 / self.spacing)) + 1)
        sl = slice(i0, i1)
        return self.s[sl], self.x[sl], self.y[sl], self.heading[sl]

    def pose_at(self, s: float) -> tuple[float, float, float]:
        """Position and heading of the centreline at one arc length (linear interpolation).

        :param s: arc length (m).
        :return: ``(x, y, heading)``.
        """
        return (
            float(np.interp(s, self.s, self.x)),
            float(np.interp(s, self.s, self.y)),
            float(np.interp(s, self.s, self.heading)),
        )


def generate_road(
    rng: np.random.Generator, length: float, max_curvature: float, spacing: float = 1.0
) -> Road:
    """Generate a road from a random generator: straights and clothoid-entered curves of either sign.

    :param rng: the random generator (the episode's, so that the seed fixes the road).
    :param length: the least length of the road (m).
    :param max_curvature: the largest curvature magnitude (1/m); 0 gives a straight road.
    :param spacing: distance between samples (m).
    :return: the road.
    :raises ValueError: for a non-positive length or a negative curvature.
    """
    if length <= 0:
        raise ValueError(f"road length must be positive, got {length}")
    if max_curvature < 0:
        raise ValueError(f"max_curvature must be >= 0 (1/m), got {max_curvature}")
    pieces: list[np.ndarray] = [np.zeros(int(START_STRAIGHT / spacing))]
    total = pieces[0].size * spacing
    while total < length + spacing:
        straight = rng.uniform(*STRAIGHT_RANGE)
        kappa = rng.choice([-1.0, 1.0]) * rng.uniform(*CURVE_FRACTION_RANGE) * max_curvature
        transition = rng.uniform(*TRANSITION_RANGE)
        arc = rng.uniform(*ARC_RANGE)
        n_t = max(1, int(transition / spacing))
        ramp = np.linspace(0.0, kappa, n_t, endpoint=False)
        piece = np.concatenate(
            [np.zeros(int(straight / spacing)), ramp, np.full(int(arc / spacing), kappa), ramp[::-1]]
        )
        pieces.append(piece)
        total += piece.size * spacing
    return Road(np.concatenate(pieces + [np.zeros(1)]), spacing)
