"""Schedules: how a perturbation's strength evolves within an episode.

A schedule maps the step index ``t`` (0 for the first action after a reset) to a factor in
[0, 1]; the perturbation's current magnitude is ``level * scale * factor``. Schedules that
draw random numbers use the wrapper's own generator, so a seeded episode reproduces exactly.

Schedules can be given as objects or as short strings (see :func:`make_schedule`):
``"constant"``, ``"step:T"``, ``"impulse:T:D"``, ``"periodic:P"``, ``"random_walk:S"``,
``"drift:D"``.
"""

from __future__ import annotations

import math

import numpy as np


class Schedule:
    """A factor in [0, 1] as a function of the step index; constant 1 by default."""

    #: ``True`` when the factor never changes (lets wrappers skip per-step updates).
    constant: bool = False

    def reset(self, rng: np.random.Generator) -> None:
        """Start a new episode.

        :param rng: the wrapper's generator (for schedules with randomness).
        """

    def __call__(self, t: int) -> float:
        """:param t: steps taken since the reset. :return: the factor in [0, 1]."""
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def _check_steps(value: float, argument: str, allow_zero: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (0 if allow_zero else 1):
        bound = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"schedule argument {argument!r} must be {bound} integer number of steps, got {value!r}")
    return int(value)


class Constant(Schedule):
    """Full strength from the first step to the last."""

    constant = True

    def __call__(self, t: int) -> float:
        return 1.0


class Step(Schedule):
    """Off before step ``at``, full strength from then on (a sudden fault).

    :param at: the first step at which the perturbation acts.
    """

    def __init__(self, at: int) -> None:
        self.at = _check_steps(at, "at")

    def __call__(self, t: int) -> float:
        return 1.0 if t >= self.at else 0.0


class Impulse(Schedule):
    """Full strength for ``duration`` steps starting at step ``at``, off otherwise.

    :param at: first step of the pulse.
    :param duration: length of the pulse in steps (at least 1).
    """

    def __init__(self, at: int, duration: int = 1) -> None:
        self.at = _check_steps(at, "at")
        self.duration = _check_steps(duration, "duration", allow_zero=False)

    def __call__(self, t: int) -> float:
        return 1.0 if self.at <= t < self.at + self.duration else 0.0


class Periodic(Schedule):
    """Smooth oscillation ``(1 - cos(2 pi t / period)) / 2``: off at t = 0, full at half a period.

    :param period: period in steps (at least 2).
    """

    def __init__(self, period: int) -> None:
        self.period = _check_steps(period, "period", allow_zero=False)
        if self.period < 2:
            raise ValueError(f"schedule argument 'period' must be at least 2 steps, got {period!r}")

    def __call__(self, t: int) -> float:
        return 0.5 * (1.0 - math.cos(2.0 * math.pi * t / self.period))


class RandomWalk(Schedule):
    """Gaussian random walk clipped to [0, 1], starting at ``start``.

    The factor at step t depends only on the steps before it, so evaluating the schedule at
    increasing t (as wrappers do) is exactly reproducible from the wrapper's seed.

    :param step_std: standard deviation of each increment.
    :param start: the factor at t = 0.
    """

    def __init__(self, step_std: float = 0.05, start: float = 0.5) -> None:
        if not (math.isfinite(step_std) and step_std > 0):
            raise ValueError(f"schedule argument 'step_std' must be a positive number, got {step_std!r}")
        if not 0.0 <= start <= 1.0:
            raise ValueError(f"schedule argument 'start' must be in [0, 1], got {start!r}")
        self.step_std = float(step_std)
        self.start = float(start)
        self._rng: np.random.Generator = np.random.default_rng(0)
        self._t = 0
        self._value = self.start

    def reset(self, rng: np.random.Generator) -> None:
        self._rng = np.random.default_rng(rng.integers(2**63))
        self._t = 0
        self._value = self.start

    def __call__(self, t: int) -> float:
        while self._t < t:
            self._value = min(1.0, max(0.0, self._value + self.step_std * float(self._rng.standard_normal())))
            self._t += 1
        return self._value


class Drift(Schedule):
    """Linear drift from 0 at t = 0 to full strength at ``duration`` steps, then held.

    :param duration: steps to reach full strength (at least 1).
    """

    def __init__(self, duration: int) -> None:
        self.duration = _check_steps(duration, "duration", allow_zero=False)

    def __call__(self, t: int) -> float:
        return min(1.0, t / self.duration)


_SCHEDULES: dict[str, tuple[type[Schedule], tuple[type, ...]]] = {
    "constant": (Constant, ()),
    "step": (Step, (int,)),
    "impulse": (Impulse, (int, int)),
    "periodic": (Periodic, (int,)),
    "random_walk": (RandomWalk, (float, float)),
    "drift": (Drift, (int,)),
}


def make_schedule(spec: Schedule | str | None) -> Schedule:
    """Build a schedule from an object, a string or ``None`` (constant).

    :param spec: a :class:`Schedule`, ``None``, or one of ``"constant"``, ``"step:T"``,
        ``"impulse:T[:D]"``, ``"periodic:P"``, ``"random_walk[:S[:START]]"``, ``"drift:D"``
        (T, D, P in steps).
    :return: the schedule.
    :raises ValueError: for an unknown kind or bad arguments.
    """
    if spec is None:
        return Constant()
    if isinstance(spec, Schedule):
        return spec
    if not isinstance(spec, str):
        raise ValueError(f"schedule must be a Schedule, a string or None, got {type(spec).__name__}")
    kind, *raw = spec.split(":")
    if kind not in _SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r}; choose one of {sorted(_SCHEDULES)} (e.g. 'step:100')")
    cls, types = _SCHEDULES[kind]
    if len(raw) > len(types):
        raise ValueError(f"schedule {kind!r} takes at most {len(types)} arguments, got {spec!r}")
    try:
        args = [typ(value) for typ, value in zip(types, raw)]
    except ValueError as error:
        raise ValueError(f"bad schedule argument in {spec!r}: {error}") from None
    try:
        return cls(*args)
    except TypeError:
        raise ValueError(f"schedule {kind!r} needs {len(types)} argument(s), e.g. '{kind}:100'") from None
