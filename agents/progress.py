"""Progress of long work, in one style for every command: ``what: done/total unit [elapsed<left]``.

Every long loop of the package (evaluations, robustness cells, sweeps and their jobs, inspect's
episode, benchmarks) reports through :class:`Progress`: a tqdm bar on a terminal (or a notebook),
one line per change of task where output is not a terminal, nothing when disabled. A loop that
has a long inner task says what it is doing with :meth:`Progress.describe`, so that a bar never
sits still for a minute without saying why.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.agents.common.evaluation import EpisodeWatch
from tqdm.auto import tqdm

#: the one bar format: ``description: 3/10 episodes [00:12<00:28, 4.0s/episodes]``
BAR_FORMAT = "{desc}: {n_fmt}/{total_fmt} {unit} [{elapsed}<{remaining}, {rate_fmt}]"


def write_line(line: str) -> None:
    """Print a message above any bar of this process, without breaking it (and where there is
    none, as a plain line: a worker process reporting on its long task).

    :param line: the message.
    """
    tqdm.write(line)


class Progress:
    """A progress bar over ``total`` units of work.

    :param total: units of work (episodes, cells, jobs, steps...).
    :param unit: what a unit is, plural (``"episodes"``).
    :param description: what the work is.
    :param enabled: False: report nothing.
    :param leave: keep the finished bar on screen.
    :param initial: units already done (a resumed sweep).
    """

    def __init__(self, total: int, unit: str, description: str = "", enabled: bool = True, leave: bool = True,
                 initial: int = 0) -> None:
        self.description = description
        self._bar: Any = tqdm(total=total, unit=unit, desc=description or unit, disable=not enabled, leave=leave,
                              initial=initial, bar_format=BAR_FORMAT, dynamic_ncols=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def done(self) -> int:
        """:return: units done so far."""
        return int(self._bar.n)

    def describe(self, what: str) -> None:
        """:param what: the task under way (shown after the description)."""
        self._bar.set_description_str(f"{self.description} {what}".strip() if self.description else what)

    def note(self, text: str) -> None:
        """:param text: how far the current task has come (shown after the counts, e.g. ``"step 120"``)."""
        self._bar.set_postfix_str(text, refresh=False)
        self._bar.refresh()

    def advance(self, units: int = 1) -> None:
        """:param units: units just done."""
        self._bar.update(units)

    def write(self, line: str) -> None:
        """:param line: a message printed above the bar (without breaking it)."""
        write_line(line)

    def close(self) -> None:
        """Finish the bar."""
        self._bar.close()


class EpisodeProgress(EpisodeWatch):
    """Reports the steps of running episodes on a :class:`Progress`: with ``per_step``, one unit
    per step; else a note with the furthest step so far (every ``every`` steps), so that a bar
    counting episodes moves while a long episode runs.

    :param progress: the bar.
    :param per_step: count steps as the bar's units.
    :param every: steps between notes.
    """

    def __init__(self, progress: Progress, per_step: bool = False, every: int = 20) -> None:
        self.progress = progress
        self.per_step = per_step
        self.every = every
        self._steps: dict[int, int] = {}

    def reset(self, index: int, env: gym.Env, observation: Any, info: dict[str, Any]) -> None:
        self._steps[index] = 0

    def step(self, index: int, env: gym.Env, action: np.ndarray, observation: Any, reward: float,
             info: dict[str, Any], done: bool) -> None:
        self._steps[index] = self._steps.get(index, 0) + 1
        if self.per_step:
            self.progress.advance()
        elif self._steps[index] % self.every == 0:
            self.progress.note(f"step {max(self._steps.values())}")
