"""Several episodes side by side in one video, each panel at its own simulated time."""

from __future__ import annotations

import math

import numpy as np
from ncp_control.agents.watch.video import TIME_TOLERANCE, Timeline, VideoWriter

#: the widest video laid out in one row (pixels); more panels wrap to further rows
MAX_WIDTH = 1920
#: pixels between panels
GAP = 4
BACKGROUND = (24, 24, 28)


def grid(count: int, cell: tuple[int, int], max_width: int = MAX_WIDTH) -> tuple[int, int]:
    """:param count: panels. :param cell: ``(height, width)`` of one panel.
    :param max_width: widest row (pixels).
    :return: ``(rows, columns)``: as many columns as fit in ``max_width`` (at least one)."""
    columns = max(1, min(count, (max_width + GAP) // (cell[1] + GAP)))
    return math.ceil(count / columns), columns


class SideBySide:
    """Panels of several episodes in one video, on one clock.

    Each panel's frames arrive with their simulated times (:meth:`add`); the video's frame at
    instant ``t`` shows every panel's newest frame at or before ``t`` (a panel whose episode has
    ended keeps its last frame), so the episodes play at their real speed side by side. Frames
    are written as soon as every panel has passed their instant, so memory holds a few frames
    per panel, not whole episodes.

    :param writer: the video file.
    :param panels: how many episodes.
    :param max_width: widest row of panels (pixels).
    """

    def __init__(self, writer: VideoWriter, panels: int, max_width: int = MAX_WIDTH) -> None:
        if panels < 1:
            raise ValueError(f"panels must be >= 1, got {panels}")
        self.writer = writer
        self.timelines = [Timeline() for _ in range(panels)]
        self.max_width = max_width
        self._next = 0
        self._cell: tuple[int, int] | None = None
        #: ``(rows, columns)`` of the layout, known from the first written frame on.
        self.layout: tuple[int, int] | None = None

    @property
    def written(self) -> int:
        """:return: video frames written so far."""
        return self._next

    def add(self, panel: int, time: float, image: np.ndarray) -> None:
        """:param panel: index. :param time: simulated seconds since its reset. :param image: ``uint8 [H, W, 3]``."""
        self.timelines[panel].add(time, image)
        self._flush()

    def end(self, panel: int) -> None:
        """:param panel: index of an episode that has ended."""
        self.timelines[panel].ended = True
        self._flush()

    def _instant(self) -> float:
        return self._next * self.writer.period

    def _flush(self) -> None:
        while all(t.end > -math.inf for t in self.timelines) and not all(t.ended for t in self.timelines) \
                and all(t.ready(self._instant()) for t in self.timelines):
            self._write(self._instant())

    def close(self) -> None:
        """Write the frames up to the end of the longest episode (call when every episode has ended)."""
        for timeline in self.timelines:
            timeline.ended = True
        if any(t.end == -math.inf for t in self.timelines):
            raise ValueError("every panel needs at least one frame")
        last = max(t.end for t in self.timelines)
        while self._instant() <= last + TIME_TOLERANCE:
            self._write(self._instant())

    def _write(self, instant: float) -> None:
        images = [t.at(instant) for t in self.timelines]
        if self._cell is None:
            self._cell = (max(i.shape[0] for i in images), max(i.shape[1] for i in images))
            self.layout = grid(len(images), self._cell, self.max_width)
        assert self.layout is not None
        self.writer.append(tile(images, self._cell, self.layout))
        self._next += 1


def tile(images: list[np.ndarray], cell: tuple[int, int], layout: tuple[int, int]) -> np.ndarray:
    """Lay panels out in a grid, row by row, each top-left in its cell.

    :param images: ``uint8 [h, w, 3]`` panels, each at most ``cell``.
    :param cell: ``(height, width)`` of a cell.
    :param layout: ``(rows, columns)``.
    :return: ``uint8 [rows * (height + GAP) - GAP, columns * (width + GAP) - GAP, 3]``.
    """
    rows, columns = layout
    height, width = cell
    canvas = np.empty((rows * (height + GAP) - GAP, columns * (width + GAP) - GAP, 3), np.uint8)
    canvas[:] = BACKGROUND
    for index, image in enumerate(images):
        top, left = (index // columns) * (height + GAP), (index % columns) * (width + GAP)
        canvas[top:top + image.shape[0], left:left + image.shape[1]] = image
    return canvas
