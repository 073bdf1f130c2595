"""Episode videos at the environment's real time: a folder of PNG frames, a GIF or an MP4.

A video plays frames at a fixed rate; an episode has frames at its simulated times (0 after
reset, then the sum of the steps' ``info["dt"]``). :func:`frame_period` picks the video's rate
from the environment's nominal control period, and :class:`Timeline` shows at each instant of
the video the newest frame of the episode, so that one second of video is one second of the
episode, whatever the environment's rate, and also when a timing perturbation changes the
length of the steps.

- MP4 (and a folder of PNG frames): one frame per control period, ``fps = 1 / period`` (20 for
  lane keeping, 100 for the quadrotor).
- GIF: frame delays are whole hundredths of a second, and browsers play delays under 0.02 s
  at 0.1 s; a GIF frame lasts the control period rounded to 0.01 s, at least 0.02 s (so a 100 Hz
  episode shows every second step, at its real speed).
"""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from ncp_control.errors import UserError

#: what ``--render`` can write, by file suffix ("" is a folder of PNG frames)
KINDS = {"": "frames", ".gif": "gif", ".mp4": "mp4"}
#: GIF delays are counted in hundredths of a second
GIF_TICK = 0.01
#: the shortest GIF delay that browsers play as written
GIF_MIN_DELAY = 0.02
#: tolerance (s) when comparing an episode's summed step times with the video's instants
TIME_TOLERANCE = 1e-6


def video_kind(target: str | Path) -> str:
    """:param target: where to write (``out.mp4``, ``out.gif`` or a folder).
    :return: ``"mp4"``, ``"gif"`` or ``"frames"``.
    :raises UserError: for another suffix."""
    suffix = Path(target).suffix.lower()
    if suffix not in KINDS:
        raise UserError(f"--render takes a folder (PNG frames), a .gif or a .mp4 file, got {target}")
    return KINDS[suffix]


def frame_period(kind: str, control_period: float) -> float:
    """Seconds per frame of the written video.

    :param kind: ``"mp4"``, ``"gif"`` or ``"frames"``.
    :param control_period: the environment's nominal control period (s).
    :return: the period itself (MP4, frames); for a GIF, the period in whole hundredths of a
        second and at least :data:`GIF_MIN_DELAY`.
    """
    if not (math.isfinite(control_period) and control_period > 0):
        raise UserError(f"the control period must be a positive number of seconds, got {control_period}")
    if kind != "gif":
        return float(control_period)
    ticks = max(round(control_period / GIF_TICK), round(GIF_MIN_DELAY / GIF_TICK))
    return ticks * GIF_TICK


class Timeline:
    """The frames of one episode, handed out at the video's instants ``0, p, 2p, ...``.

    :meth:`add` gives a frame and the simulated time from which it shows; :meth:`ready`
    says whether the frame of instant ``t`` is known (a later frame has arrived, or the
    episode has ended); :meth:`at` returns it (the newest frame at or before ``t``).
    """

    def __init__(self) -> None:
        self._frames: deque[tuple[float, Any]] = deque()
        #: whether the episode has ended (no frame will follow).
        self.ended = False

    @property
    def end(self) -> float:
        """:return: the time of the newest frame (``-inf`` before the first)."""
        return self._frames[-1][0] if self._frames else -math.inf

    def add(self, time: float, frame: Any) -> None:
        """:param time: simulated seconds since reset. :param frame: what shows from then on."""
        if self._frames and time < self._frames[-1][0]:
            raise ValueError(f"frames must come in time order, got {time} after {self._frames[-1][0]}")
        self._frames.append((float(time), frame))

    def ready(self, time: float) -> bool:
        """:param time: an instant of the video (s). :return: whether :meth:`at` can answer it for good."""
        return self.ended or self.end > time + TIME_TOLERANCE

    def at(self, time: float) -> Any:
        """The newest frame at or before ``time`` (older frames are dropped: ask in time order).

        :param time: an instant of the video (s).
        :return: the frame.
        """
        if not self._frames:
            raise ValueError("no frame yet")
        while len(self._frames) > 1 and self._frames[1][0] <= time + TIME_TOLERANCE:
            self._frames.popleft()
        return self._frames[0][1]


def instants(duration: float, period: float) -> int:
    """:param duration: seconds from the first frame to the last. :param period: seconds per video frame.
    :return: the number of video frames that cover it (instants ``0 .. duration``)."""
    return int(math.floor(duration / period + TIME_TOLERANCE)) + 1


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad a frame to even height and width (the MP4 colour format needs them), with black."""
    height, width = frame.shape[:2]
    pad = ((0, height % 2), (0, width % 2), (0, 0))
    return np.pad(frame, pad) if any(p[1] for p in pad) else frame


class VideoWriter:
    """Write RGB frames (``uint8 [H, W, 3]``, all of one size) to a folder, a GIF or an MP4.

    Frames go to disk as they come (MP4, PNG) or are kept as palette images (GIF, a quarter of
    the memory); :meth:`close` finishes the file. Use as a context manager.

    :param target: ``out.mp4``, ``out.gif`` or a folder (created).
    :param period: seconds per frame (from :func:`frame_period`).
    """

    def __init__(self, target: str | Path, period: float) -> None:
        self.target = Path(target)
        self.kind = video_kind(self.target)
        self.period = float(period)
        self.count = 0
        self._gif: list[Any] = []
        self._mp4: Any = None
        self._size: tuple[int, int] | None = None
        if self.kind == "frames":
            self.target.mkdir(parents=True, exist_ok=True)
        else:
            self.target.parent.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def append(self, frame: np.ndarray) -> None:
        """:param frame: ``uint8 [H, W, 3]``, the same size as the first."""
        from PIL import Image

        image = np.ascontiguousarray(frame, dtype=np.uint8)
        size = image.shape[:2]
        if self._size is None:
            self._size = size
        elif size != self._size:
            raise ValueError(f"every frame must have the size of the first, {self._size}, got {size}")
        if self.kind == "frames":
            Image.fromarray(image).save(self.target / f"frame_{self.count:05d}.png")
        elif self.kind == "gif":
            self._gif.append(Image.fromarray(image).quantize(256, method=Image.Quantize.MEDIANCUT))
        else:
            self._mp4_frame(_even(image))
        self.count += 1

    def _mp4_frame(self, image: np.ndarray) -> None:
        if self._mp4 is None:
            try:
                import imageio_ffmpeg
            except ImportError:
                raise UserError("--render to an .mp4 needs imageio-ffmpeg (pip install imageio-ffmpeg); "
                                "or give a .gif or a folder") from None
            self._mp4 = imageio_ffmpeg.write_frames(
                str(self.target), (image.shape[1], image.shape[0]), fps=1.0 / self.period, codec="libx264",
                quality=7, macro_block_size=2, ffmpeg_log_level="error")
            self._call(self._mp4.send, None)
        self._call(self._mp4.send, image.tobytes())

    def _call(self, function: Any, *args: Any) -> Any:
        try:
            return function(*args)
        except (OSError, RuntimeError, ValueError, StopIteration) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise UserError(f"cannot write {self.target} ({first}); use a .gif or a folder instead") from None

    def close(self) -> None:
        """Finish the file (a GIF is written here, with every frame lasting :attr:`period`)."""
        if self._mp4 is not None:
            writer, self._mp4 = self._mp4, None
            self._call(writer.close)
        if self._gif:
            frames, self._gif = self._gif, []
            milliseconds = int(round(self.period * 1000))
            frames[0].save(self.target, save_all=True, append_images=frames[1:], duration=milliseconds, loop=0,
                           disposal=1)
