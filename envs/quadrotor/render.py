"""Human-readable pictures of a quadrotor episode, drawn with numpy alone.

:func:`draw_scene` shows a top view (x right, y up) and a side view (x right, z up) of the
arena with a 0.5 m grid, the drone's arms (front arms red), its recent trail, the task's
points (targets, waypoints), and optionally a camera image scaled up on the right.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PANEL = 240
MARGIN = 8
BACKGROUND = (235, 235, 235)
FLOOR = (250, 250, 250)
GRID = (210, 210, 210)
ARM_FRONT = (200, 40, 40)
ARM_BACK = (40, 40, 40)
TRAIL = (90, 120, 200)


def _disc(image: np.ndarray, x: float, y: float, radius: float, colour: Sequence[int]) -> None:
    """Fill a disc centred at pixel ``(x, y)`` (column, row)."""
    h, w = image.shape[:2]
    x0, x1 = max(int(x - radius), 0), min(int(x + radius) + 1, w)
    y0, y1 = max(int(y - radius), 0), min(int(y + radius) + 1, h)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.ogrid[y0:y1, x0:x1]
    mask = (xx - x) ** 2 + (yy - y) ** 2 <= radius**2
    image[y0:y1, x0:x1][mask] = colour


def _line(image: np.ndarray, p0: Sequence[float], p1: Sequence[float], colour: Sequence[int], width: int = 1) -> None:
    """Draw a segment between pixels ``p0`` and ``p1`` (column, row)."""
    h, w = image.shape[:2]
    n = int(max(abs(p1[0] - p0[0]), abs(p1[1] - p0[1]))) + 2
    t = np.linspace(0.0, 1.0, n)
    xs = np.rint(p0[0] + t * (p1[0] - p0[0])).astype(int)
    ys = np.rint(p0[1] + t * (p1[1] - p0[1])).astype(int)
    for dx in range(-(width // 2), width - width // 2):
        for dy in range(-(width // 2), width - width // 2):
            ok = (xs + dx >= 0) & (xs + dx < w) & (ys + dy >= 0) & (ys + dy < h)
            image[ys[ok] + dy, xs[ok] + dx] = colour


class _Panel:
    """Map two world axes of the arena onto a square pixel panel."""

    def __init__(self, arena: np.ndarray, axes: tuple[int, int]) -> None:
        self.axes = axes
        lo = arena[list(axes), 0]
        hi = arena[list(axes), 1]
        span = float(np.max(hi - lo))
        self.lo = lo
        self.scale = (PANEL - 2 * MARGIN) / max(span, 1e-9)
        self.extent = hi

    def pixel(self, point: np.ndarray) -> tuple[float, float]:
        """:return: the pixel (column, row) of a world point ``[3]``."""
        return self.pixel_xy(float(point[self.axes[0]]), float(point[self.axes[1]]))

    def draw_background(self, image: np.ndarray) -> None:
        image[:] = BACKGROUND
        u0, v1 = self.pixel_xy(self.lo[0], self.lo[1])
        u1, v0 = self.pixel_xy(self.extent[0], self.extent[1])
        image[int(v0) : int(v1) + 1, int(u0) : int(u1) + 1] = FLOOR
        for k, (lo, hi) in enumerate(zip(self.lo, self.extent)):
            for value in np.arange(np.ceil(lo / 0.5) * 0.5, hi + 1e-9, 0.5):
                if k == 0:
                    u, _ = self.pixel_xy(value, self.lo[1])
                    image[int(v0) : int(v1) + 1, int(u)] = GRID
                else:
                    _, v = self.pixel_xy(self.lo[0], value)
                    image[int(v), int(u0) : int(u1) + 1] = GRID

    def pixel_xy(self, a: float, b: float) -> tuple[float, float]:
        """:return: the pixel (column, row) of panel coordinates ``(a, b)`` (m)."""
        return (
            MARGIN + (a - self.lo[0]) * self.scale,
            PANEL - MARGIN - (b - self.lo[1]) * self.scale,
        )


def draw_scene(
    arena: np.ndarray,
    position: np.ndarray,
    rotation: np.ndarray,
    motor_positions: np.ndarray,
    points: Sequence[tuple[np.ndarray, tuple[int, int, int]]],
    trail: Sequence[np.ndarray],
    inset: np.ndarray | None = None,
) -> np.ndarray:
    """Draw the top and side views.

    :param arena: ``[3, 2]`` bounds (m).
    :param position: drone position ``[3]``.
    :param rotation: body-to-world rotation ``[3, 3]``.
    :param motor_positions: motor positions in the body frame ``[4, 3]``; motors 0 and 3 are at the front.
    :param points: task points and their RGB colours.
    :param trail: recent positions, oldest first.
    :param inset: an RGB image ``[h, w, 3]`` shown scaled on the right, or ``None``.
    :return: uint8 image ``[240, 480 (+ inset width), 3]``.
    """
    panels = []
    arm_pixels = 9.0  # arms drawn at a fixed on-screen length, so the drone stays visible
    for axes in ((0, 1), (0, 2)):
        image = np.empty((PANEL, PANEL, 3), dtype=np.uint8)
        panel = _Panel(arena, axes)
        panel.draw_background(image)
        for p in trail[::3]:
            _disc(image, *panel.pixel(p), 1.0, TRAIL)
        for point, colour in points:
            _disc(image, *panel.pixel(point), 5.0, colour)
        centre = panel.pixel(position)
        for i, motor in enumerate(motor_positions):
            arm = rotation @ motor
            arm *= arm_pixels / (panel.scale * float(np.linalg.norm(motor)))
            tip = panel.pixel(position + arm)
            colour = ARM_FRONT if i in (0, 3) else ARM_BACK
            _line(image, centre, tip, colour, width=2)
            _disc(image, *tip, 3.0, colour)
        panels.append(image)
    picture = np.concatenate(panels, axis=1)
    picture[:, PANEL - 1 : PANEL + 1] = 120
    if inset is not None:
        factor = max(1, PANEL // inset.shape[0])
        big = np.repeat(np.repeat(inset, factor, axis=0), factor, axis=1)[:PANEL]
        column = np.full((PANEL, big.shape[1], 3), BACKGROUND, dtype=np.uint8)
        top = (PANEL - big.shape[0]) // 2
        column[top : top + big.shape[0]] = big
        picture = np.concatenate([picture, column], axis=1)
    return picture
