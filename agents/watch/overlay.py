"""The text above each panel of an episode video: who acts, when, how well, under what shift.

:class:`Moment` holds the numbers of one frame (taken from the episode as it runs);
:func:`overlay_lines` says them in words and :func:`with_header` draws them in a band above the
environment's picture, with the end of the episode (crash, success, time-out) as a coloured
badge. Text is drawn with Pillow in the DejaVu Sans Mono face that matplotlib ships.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

#: points of the overlay's font
FONT_SIZE = 13
#: pixels per line of text
LINE_HEIGHT = 17
#: pixels left of the text
INSET = 6
HEADER_COLOUR = (34, 36, 44)
TEXT_COLOUR = (235, 235, 235)
DIM_COLOUR = (170, 174, 186)
#: badge colour of each way an episode ends
STATUS_COLOURS = {"crash": (210, 50, 50), "success": (40, 160, 70), "end": (110, 110, 120)}
#: action entries written out (more are elided)
MAX_ACTIONS = 6


@dataclass(frozen=True)
class Moment:
    """What one panel shows at one frame.

    :param name: the policy's name.
    :param step: steps taken since reset.
    :param time: simulated seconds since reset (the sum of the steps' ``info["dt"]``).
    :param total: return so far (sum of rewards).
    :param action: the last action taken (None before the first step).
    :param perturbations: the active perturbations: ``info["perturbation"]`` records
        (``name``, ``level``, ``magnitude``, ``unit``).
    :param status: ``""`` while the episode runs, then ``"crash"``, ``"success"`` or ``"end"`` (neither).
    """

    name: str
    step: int
    time: float
    total: float
    action: np.ndarray | None = None
    perturbations: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    status: str = ""


def shift_text(perturbations: Sequence[Mapping[str, Any]]) -> str:
    """:param perturbations: ``info["perturbation"]`` records.
    :return: ``"friction 0.50 (-0.25 relative change), palette 1.00 (3 palette steps)"``, or ``"none"``."""
    if not perturbations:
        return "none"
    parts = []
    for record in perturbations:
        magnitude = record.get("magnitude")
        unit = record.get("unit", "")
        detail = f" ({float(magnitude):.3g} {unit})".rstrip() if isinstance(magnitude, (int, float)) else ""
        parts.append(f"{record.get('name', '?')} {float(record.get('level', 0.0)):.2f}{detail}")
    return ", ".join(parts)


def action_text(action: np.ndarray | None) -> str:
    """:param action: the last action (None before the first step). :return: e.g. ``"+0.12 -0.40"``."""
    if action is None:
        return "-"
    values = np.asarray(action, dtype=np.float64).reshape(-1)
    text = " ".join(f"{v:+.2f}" for v in values[:MAX_ACTIONS])
    return text + (f" ... ({values.size})" if values.size > MAX_ACTIONS else "")


def overlay_lines(moment: Moment) -> list[str]:
    """:param moment: the frame's numbers. :return: the overlay's four lines: name (and how the
    episode ended), step / time / return, action, perturbations."""
    ending = f"  [{moment.status.upper()}]" if moment.status else ""
    return [
        f"{moment.name}{ending}",
        f"step {moment.step}  t {moment.time:.2f} s  return {moment.total:.1f}",
        f"action {action_text(moment.action)}",
        f"shift {shift_text(moment.perturbations)}",
    ]


@lru_cache(maxsize=4)
def font(size: int = FONT_SIZE) -> Any:
    """:param size: points. :return: the Pillow font of the overlays (matplotlib's DejaVu Sans Mono)."""
    import matplotlib
    from PIL import ImageFont

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSansMono.ttf"), size)


def fit(text: str, width: int, size: int = FONT_SIZE) -> str:
    """:param text: one line. :param width: pixels available. :param size: points.
    :return: the line, cut with an ellipsis where it is wider than ``width``."""
    face = font(size)
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + "...") > width:
        text = text[:-1]
    return text + "..."


def header_height(lines: int = 4) -> int:
    """:param lines: lines of text. :return: pixels of the band above a panel."""
    return lines * LINE_HEIGHT + 6


def with_header(image: np.ndarray, moment: Moment) -> np.ndarray:
    """The picture with the overlay's band above it.

    :param image: ``uint8 [H, W, 3]``, the environment's frame.
    :param moment: the frame's numbers.
    :return: ``uint8 [header_height() + H, W, 3]``.
    """
    from PIL import Image, ImageDraw

    lines = overlay_lines(moment)
    height = header_height(len(lines))
    width = image.shape[1]
    band = Image.new("RGB", (width, height), HEADER_COLOUR)
    draw = ImageDraw.Draw(band)
    face = font()
    name = fit(moment.name, width - 2 * INSET - (110 if moment.status else 0))
    draw.text((INSET, 3), name, font=face, fill=TEXT_COLOUR)
    if moment.status:
        label = f" {moment.status.upper()} "
        left = INSET + int(face.getlength(name)) + 8
        draw.rectangle((left, 3, left + int(face.getlength(label)), 3 + LINE_HEIGHT - 2),
                       fill=STATUS_COLOURS.get(moment.status, DIM_COLOUR))
        draw.text((left, 3), label, font=face, fill=(255, 255, 255))
    for row, line in enumerate(lines[1:], start=1):
        draw.text((INSET, 3 + row * LINE_HEIGHT), fit(line, width - 2 * INSET), font=face,
                  fill=TEXT_COLOUR if row < 3 else DIM_COLOUR)
    return np.concatenate([np.asarray(band), np.asarray(image, dtype=np.uint8)], axis=0)
