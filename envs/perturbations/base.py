"""The interface every perturbation wrapper shares.

A perturbation is a :class:`gymnasium.Wrapper` with

- ``level`` in [0, 1], mapped to a physical magnitude: at full schedule strength the
  magnitude is ``level * scale``, where ``scale`` (the magnitude at level 1) defaults to the
  calibrated :attr:`Perturbation.default_scale` documented on each class;
- a :mod:`schedule <ncp_control.envs.perturbations.schedules>` that modulates the magnitude within an
  episode: ``magnitude(t) = level * scale * schedule(t)``;
- its own random generator, re-seeded from the episode seed on ``reset(seed=...)``
  (mixed with the perturbation's name and the optional ``seed`` argument), so a seeded
  evaluation reproduces exactly and never consumes the environment's own random numbers;
- ``info["perturbation"]``: a list with one record per perturbation wrapper in the stack
  (innermost first), each ``{"name", "family", "level", "magnitude", "unit"}``.

At ``level == 0`` a wrapper calls straight through: observations, rewards and terminations
are exactly those of the unwrapped environment for the same seed.
"""

from __future__ import annotations

import functools
import inspect
import math
import zlib
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np
from ncp_control.envs.perturbations.schedules import Schedule, make_schedule

_CORE: Any = getattr(np, "_core", None) or np.core  # numpy >= 2 has _core, older numpy core
#: the clip ufunc itself: ``np.clip``'s Python wrapper costs several microseconds per call.
fast_clip: np.ufunc = _CORE.umath.clip

StepResult = tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]
#: a step hook: ``before(action) -> action`` or ``after(obs, info) -> obs`` (see ``Perturbation._step_hooks``).
Hook = Callable[..., Any]


class Draws:
    """Random numbers drawn in blocks from a wrapper's generator, handed out one row a step.

    One generator call per block instead of one per step: a call costs microseconds, about
    as much as the arithmetic of a whole wrapper step. The rows of a block are made in one
    go (array views, or floats for shape ``()``), so taking one is a plain ``next``: hot
    paths do ``next(draws.rows)`` and call :meth:`refill` on ``StopIteration``. Blocks
    restart at every reset, so an episode's numbers depend only on the episode seed.

    :param kind: ``"normal"`` (standard normal), ``"uniform"`` (in [-1, 1)) or
        ``"random"`` (in [0, 1)).
    :param shape: shape of one row.
    :param dtype: float dtype of the numbers.
    """

    def __init__(self, kind: str, shape: tuple[int, ...], dtype: Any = np.float64) -> None:
        if kind not in ("normal", "uniform", "random"):
            raise ValueError(f"kind must be 'normal', 'uniform' or 'random', got {kind!r}")
        self.kind = kind
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.block = max(1, min(256, 8192 // max(1, int(np.prod(self.shape)))))
        self._rng = np.random.default_rng()
        #: the rows of the current block not handed out yet.
        self.rows: Iterator[Any] = iter(())
        #: multiplies every number (a scalar or an array broadcast over a row), or ``None``;
        #: set it before the first draw of an episode.
        self.factor: Any = None

    def reset(self, rng: np.random.Generator) -> None:
        """:param rng: the generator to draw from (after the wrapper's reset)."""
        self._rng = rng
        self.rows = iter(())

    def refill(self) -> Any:
        """Draw the next block. :return: its first row."""
        size = (self.block, *self.shape)
        if self.kind == "normal":
            block = self._rng.standard_normal(size, dtype=self.dtype)
        elif self.kind == "random":
            block = self._rng.random(size, dtype=self.dtype)
        else:
            block = 2.0 * self._rng.random(size, dtype=self.dtype) - 1.0
        if self.factor is not None:
            block *= self.factor
        self.rows = iter(list(block) if self.shape else block.tolist())
        return next(self.rows)

    def __call__(self) -> Any:
        """:return: the next row (an array of ``shape``, or a float for shape ``()``)."""
        try:
            return next(self.rows)
        except StopIteration:
            return self.refill()


def check_level(level: Any) -> float:
    """:param level: a severity level. :return: it as a float. :raises ValueError: outside [0, 1]."""
    if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)):
        raise ValueError(f"level must be a number in [0, 1], got {level!r}")
    value = float(level)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"level must be in [0, 1], got {level!r}")
    return value


class Perturbation(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Base class of every perturbation wrapper.

    Subclasses set the class attributes and override :meth:`_on_reset` and the step hooks
    :meth:`_before` and :meth:`_after` (or :meth:`_step_hooks`, for per-episode closures);
    none is called at level 0. A subclass that overrides :meth:`_perturbed_step` or
    :meth:`step` instead cannot be fused into a :class:`~ncp_control.envs.perturbations.stack.Stack`.
    Constructor arguments are recorded (``env.spec`` lists the wrapper), so
    ``gym.make(env.spec)`` rebuilds the stack.

    :param env: the environment to perturb.
    :param level: severity in [0, 1].
    :param scale: magnitude at level 1 (in :attr:`unit`); defaults to :attr:`default_scale`.
    :param schedule: a :class:`~ncp_control.envs.perturbations.schedules.Schedule`, a schedule string
        such as ``"step:100"``, or ``None`` for constant strength.
    :param seed: extra seed mixed into the wrapper's generator (to decorrelate two
        wrappers of the same kind in one stack).
    """

    name: ClassVar[str] = "perturbation"
    family: ClassVar[str] = "none"
    unit: ClassVar[str] = ""
    description: ClassVar[str] = ""
    default_scale: ClassVar[float] = 1.0
    #: the environments this perturbation works on, for error messages and ``available()``.
    supports: ClassVar[str] = "any Gymnasium environment"
    #: whether its hooks read the step index ``_t`` (a :class:`Stack` keeps ``_t`` counting
    #: only for these and for scheduled perturbations).
    uses_step_index: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Record the arguments of the outermost ``__init__`` of every subclass."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self: Perturbation, *args: Any, **kw: Any) -> None:
            if not hasattr(self, "_saved_kwargs"):
                bound = signature.bind(self, *args, **kw)
                bound.apply_defaults()
                self._saved_kwargs = {k: v for k, v in list(bound.arguments.items())[2:]}
            init(self, *args, **kw)

        cls.__init__ = recording_init  # type: ignore[method-assign]

    def __init__(
        self,
        env: gym.Env,
        level: float,
        scale: float | None = None,
        schedule: Schedule | str | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(env)
        self.level = check_level(level)
        scale = self.default_scale if scale is None else scale
        if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
            raise ValueError(f"scale must be a positive number ({self.unit} at level 1), got {scale!r}")
        if not (math.isfinite(float(scale)) and float(scale) > 0):
            raise ValueError(f"scale must be a positive number ({self.unit} at level 1), got {scale!r}")
        self.scale = float(scale)
        self.schedule = make_schedule(schedule)
        self._constant = self.schedule.constant
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self._stream = [zlib.crc32(self.name.encode())] + ([int(seed)] if seed is not None else [])
        self.np_random_perturbation = np.random.default_rng()
        self._t = 0
        self.magnitude = self.magnitude_at(0) if self.schedule.constant else 0.0
        self._last_record: dict[str, Any] | None = None
        self._draws: list[Draws] = []
        #: this episode's step hooks, from :meth:`_step_hooks` at every reset.
        self._hooks: tuple[Hook | None, Hook | None] | None = None

    # -- shared machinery ---------------------------------------------------------------
    @property
    def active(self) -> bool:
        """``True`` when the level is above 0 (the wrapper does anything at all)."""
        return self.level > 0.0

    def _check_scale_at_most_one(self, kind: str) -> None:
        """Reject a scale above 1 where the magnitude is a fraction or a probability.

        :param kind: what the magnitude is, for the message (``"fraction"``, ``"probability"``).
        :raises ValueError: when the scale is above 1.
        """
        if self.scale > 1:
            raise ValueError(f"scale of {self.name!r} is a {kind} and must be at most 1, got {self.scale}")

    def draws(self, kind: str, shape: tuple[int, ...], dtype: Any = np.float64) -> Draws:
        """:return: a block-drawn stream of random numbers from this wrapper's generator
            (see :class:`Draws`), restarted at every reset."""
        stream = Draws(kind, shape, dtype)
        self._draws.append(stream)
        return stream

    @property
    def rng(self) -> np.random.Generator:
        """The wrapper's own generator (re-seeded from every seeded reset)."""
        return self.np_random_perturbation

    def magnitude_at(self, t: int) -> float:
        """The magnitude at step ``t`` of an episode, ``level * scale * schedule(t)``: the one
        formula of every perturbation (in :attr:`unit`).

        :param t: the step index in the episode.
        :return: the magnitude.
        """
        return self.level * self.scale * self.schedule(t)

    @property
    def peak_magnitude(self) -> float:
        """``level * scale``: the magnitude where the schedule is at full strength (in :attr:`unit`)."""
        return self.level * self.scale

    def _update_magnitude(self) -> float:
        if not self.schedule.constant:
            self.magnitude = self.magnitude_at(self._t)
        return self.magnitude

    def _record(self, info: dict[str, Any]) -> dict[str, Any]:
        record = self.current_record()
        previous = info.get("perturbation")
        info["perturbation"] = [*previous, record] if previous else [record]
        return info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset the environment, re-seed the wrapper's generator and restart its schedule.

        :param seed: the episode seed (also seeds the wrapper's own generator).
        :param options: reset options passed on to the environment.
        :return: the first observation and the info dict.
        """
        obs, info = self.env.reset(seed=seed, options=self._begin_reset(seed, options))
        return self._end_reset(obs, info)

    def _begin_reset(self, seed: int | None, options: dict[str, Any] | None) -> dict[str, Any] | None:
        """The part of :meth:`reset` before the inner reset (also run by :class:`Stack`).

        :return: the options for the inner reset.
        """
        if seed is not None:
            self.np_random_perturbation = np.random.default_rng([int(seed), *self._stream])
        self._t = 0
        if not self.active:
            return options
        self.schedule.reset(self.np_random_perturbation)
        for stream in self._draws:
            stream.reset(self.np_random_perturbation)
        self._before_reset()
        return self._reset_options(options)

    def _end_reset(self, obs: Any, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """The part of :meth:`reset` after the inner reset (also run by :class:`Stack`)."""
        if not self.active:
            self.magnitude = 0.0
            return obs, self._record(info)
        self._update_magnitude()
        obs, info = self._on_reset(obs, info)
        self._hooks = self._step_hooks()
        return obs, self._record(info)

    def step(self, action: Any) -> StepResult:
        """Step the environment under the perturbation.

        :param action: the agent's action.
        :return: observation, reward, terminated, truncated, info.
        """
        if self.level == 0.0:
            obs, reward, terminated, truncated, info = self.env.step(action)
            return obs, reward, terminated, truncated, self._record(info)
        if not self._constant:
            self.magnitude = self.magnitude_at(self._t)
        obs, reward, terminated, truncated, info = self._perturbed_step(action)
        self._t += 1
        record = self._last_record
        if record is None or record["magnitude"] != self.magnitude:
            return obs, reward, terminated, truncated, self._record(info)
        previous = info.get("perturbation")  # the common case of _record, inlined: it runs every step
        info["perturbation"] = [*previous, record] if previous else [record]
        return obs, reward, terminated, truncated, info

    def current_record(self) -> dict[str, Any]:
        """:return: this wrapper's ``info["perturbation"]`` record for its current magnitude
            (the same dict until the magnitude changes: records handed out stay as they were)."""
        record = self._last_record
        if record is None or record["magnitude"] != self.magnitude:
            record = self._last_record = {
                "name": self.name,
                "family": self.family,
                "level": self.level,
                "magnitude": self.magnitude,
                "unit": self.unit,
            }
        return record

    def close(self) -> None:
        """Undo any change to the environment, then close it."""
        if self.active:
            self._restore()
        super().close()

    # -- hooks ------------------------------------------------------------------------
    def _before_reset(self) -> None:
        """Called before the inner reset (level > 0): dynamics restore nominal values here."""

    def _reset_options(self, options: dict[str, Any] | None) -> dict[str, Any] | None:
        """:return: the reset options given to the inner environment (task shifts add to them)."""
        return options

    def _on_reset(self, obs: Any, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Called after the inner reset with the first observation (level > 0)."""
        return obs, info

    def _perturbed_step(self, action: Any) -> StepResult:
        """One step at level > 0; :attr:`magnitude` holds the current magnitude.

        Wrappers that keep this method (and :meth:`step`) are *fusable*: their whole step is
        :meth:`_before`, the inner step, :meth:`_after`, so :class:`Stack` can run several of
        them in one layer with exactly the same results.
        """
        before, after = self._hooks or self._step_hooks()
        obs, reward, terminated, truncated, info = self.env.step(action if before is None else before(action))
        return obs if after is None else after(obs, info), reward, terminated, truncated, info

    def _step_hooks(self) -> tuple[Hook | None, Hook | None]:
        """The ``(before, after)`` hooks of the episode that just started, ``None`` for no-ops.

        Called after every reset at level > 0; both the wrapper's own step and a
        :class:`Stack` run these, so both compute exactly the same. By default the bound
        :meth:`_before` and :meth:`_after` where a class overrides them; hot paths return
        closures over the episode's constants instead (a fraction of the attribute lookups).
        """
        cls = type(self)
        before = self._before if cls._before is not Perturbation._before else None
        after = self._after if cls._after is not Perturbation._after else None
        return before, after

    def _before(self, action: Any) -> Any:
        """Before the inner step (level > 0): change the action or the physics.

        :param action: the action from the agent (or from the wrapper outside).
        :return: the action passed on inwards.
        """
        return action

    def _after(self, obs: Any, info: dict[str, Any]) -> Any:
        """After the inner step (level > 0): change the observation or update state.

        :param obs: the observation from the inner environment.
        :param info: the inner step's info dict (read it; records are added later).
        :return: the observation passed on outwards.
        """
        return obs

    @classmethod
    def fusable(cls) -> bool:
        """:return: whether a step of this wrapper is exactly ``_before``, inner step, ``_after``."""
        return cls.step is Perturbation.step and cls._perturbed_step is Perturbation._perturbed_step

    def _restore(self) -> None:
        """Undo changes to the environment (called on close)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}(level={self.level}, scale={self.scale} {self.unit}){self.env}>"
