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
        self.s = np.arange(self.curvature.size) * spacing
        self._geometry: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def _centreline(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Heading by the trapezoidal rule (exact for a piecewise linear profile), position by the
        midpoint heading of each sample interval; computed on first use (drawing only).

        :return: ``(x, y, heading, x + i y)``, each of shape ``[N]``.
        """
        if self._geometry is None:
            turn = 0.5 * self.spacing * (self.curvature[1:] + self.curvature[:-1])
            heading = np.concatenate([[0.0], np.cumsum(turn)])
            mid = heading[:-1] + 0.5 * turn
            x = np.concatenate([[0.0], np.cumsum(self.spacing * np.cos(mid))])
            y = np.concatenate([[0.0], np.cumsum(self.spacing * np.sin(mid))])
            self._geometry = (x, y, heading, x + 1j * y)
        return self._geometry

    @property
    def x(self) -> np.ndarray:
        """:return: x of the centreline samples (m), shape ``[N]``."""
        return self._centreline()[0]

    @property
    def y(self) -> np.ndarray:
        """:return: y of the centreline samples (m), shape ``[N]``."""
        return self._centreline()[1]

    @property
    def heading(self) -> np.ndarray:
        """:return: heading of the centreline samples (rad), shape ``[N]``."""
        return self._centreline()[2]

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
        return np.array([self.curvature_at(s + d) for d in distances])

    def window(self, s0: float, s1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The centreline samples between two arc lengths.

        :param s0: first arc length (m).
        :param s1: last arc length (m).
        :return: ``(s, x + i y, heading)``, each of shape ``[K]`` (positions as complex numbers).
        """
        i0 = max(0, int(math.floor(s0 / self.spacing)))
        i1 = min(self.curvature.size, int(math.ceil(s1 / self.spacing)) + 1)
        _, _, heading, z = self._centreline()
        return self.s[i0:i1], z[i0:i1], heading[i0:i1]

    def pose_at(self, s: float) -> tuple[float, float, float]:
        """Position and heading of the centreline at one arc length (linear interpolation).

        :param s: arc length (m).
        :return: ``(x, y, heading)``.
        """
        u = min(max(s / self.spacing, 0.0), self.curvature.size - 1.0)
        i = min(int(u), self.curvature.size - 2)
        f = u - i
        x, y, h, _ = self._centreline()
        return (
            float(x[i] + f * (x[i + 1] - x[i])),
            float(y[i] + f * (y[i + 1] - y[i])),
            float(h[i] + f * (h[i + 1] - h[i])),
        )


def generate_road(
    rng: np.random.Generator, length: float, max_curvature: float, spacing: float = 1.0
) -> Road:
    """Generate a road from a random generator: straights and clothoid-entered curves of either sign.

    The road ends ``length`` metres (rounded up to a sample) after its start.

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
    # Knots of the piecewise linear profile: each piece is straight, ramp up, arc, ramp down.
    # Every piece is at least 2 * 10 + 15 m long, so this many pieces always reach the length.
    count = int(length / (2 * TRANSITION_RANGE[0] + ARC_RANGE[0])) + 1
    u = rng.random((count, 5))
    straight = STRAIGHT_RANGE[0] + u[:, 0] * (STRAIGHT_RANGE[1] - STRAIGHT_RANGE[0])
    transition = TRANSITION_RANGE[0] + u[:, 1] * (TRANSITION_RANGE[1] - TRANSITION_RANGE[0])
    arc = ARC_RANGE[0] + u[:, 2] * (ARC_RANGE[1] - ARC_RANGE[0])
    fraction = CURVE_FRACTION_RANGE[0] + u[:, 3] * (CURVE_FRACTION_RANGE[1] - CURVE_FRACTION_RANGE[0])
    kappa = np.where(u[:, 4] < 0.5, -1.0, 1.0) * fraction * max_curvature
    steps = np.stack([straight, transition, arc, transition], axis=1).ravel()
    knot_s = START_STRAIGHT + np.concatenate([[0.0], np.cumsum(steps)])
    zero = np.zeros(count)
    knot_k = np.concatenate([np.stack([zero, zero, kappa, kappa], axis=1).ravel(), [0.0]])
    n = int(math.ceil(length / spacing)) + 1
    s = np.arange(n) * spacing
    return Road(np.interp(s, np.concatenate([[0.0], knot_s]), np.concatenate([[0.0], knot_k])), spacing)
