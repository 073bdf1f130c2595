"""Named suites: the perturbations, their families and levels that robustness evaluations sweep.

Every suite holds perturbations that apply to a policy trained on the clean task (no
distractor dimensions, which change the observation's shape). ``visual`` needs image
observations; ``task`` shifts need our own tasks. Entries whose perturbation an environment
cannot take are skipped by :func:`suite_for` and :func:`resolve_suite`.

This module owns suites: :data:`SUITES` lists them as ``(perturbation, levels)`` pairs,
:func:`resolve_suite` turns one into a :class:`Suite` (each entry with its family, the levels
checked once by :func:`check_levels`), which an evaluation then only reads. A :class:`Suite`
can also be built by hand with any ``wrap(env, name, level, **kwargs) -> env`` function,
which is how tests and users add their own shifts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
from ncp_control.envs.perturbations.registry import get, make

from ncp_control.errors import UserError

#: The severity levels every suite sweeps.
LEVELS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)

_SUITES: dict[str, tuple[str, ...]] = {
    "observation": ("gaussian_noise", "uniform_noise", "bias", "dropout", "stuck_sensor", "observation_delay"),
    "actuation": ("action_noise", "action_bias", "action_delay", "sticky_action", "gain_loss", "motor_failure",
                  "actuator_lag", "rate_limit"),
    "dynamics": ("mass", "inertia", "friction", "damping", "gravity", "wind", "gust", "wind_sine",
                 "external_force", "impulse"),
    "timing": ("control_rate", "dt_jitter"),
    "visual": ("image_brightness", "image_contrast", "image_noise", "image_occlusion", "palette", "background"),
    "task": ("road_curvature", "speed", "target_range", "palette", "background", "distractors"),
    "combined": ("gaussian_noise", "observation_delay", "action_noise", "actuator_lag", "mass", "gust", "dt_jitter"),
}

#: suite name -> list of (perturbation name, levels).
SUITES: dict[str, list[tuple[str, tuple[float, ...]]]] = {
    name: [(perturbation, LEVELS) for perturbation in members] for name, members in _SUITES.items()
}

for _members in _SUITES.values():
    for _name in _members:
        get(_name)

#: ``wrap(env, perturbation, level, **kwargs) -> wrapped env``.
WrapFn = Callable[..., gym.Env]


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """Validate the levels of a suite (the one place that checks a list of levels).

    :param levels: levels, each in ``[0, 1]``.
    :return: the sorted distinct levels.
    :raises UserError: if empty or out of range.
    """
    values = sorted({float(level) for level in levels})
    if not values:
        raise UserError("levels must not be empty")
    bad = [v for v in values if not 0.0 <= v <= 1.0]
    if bad:
        raise UserError(f"levels must be in [0, 1], got {bad}")
    return tuple(values)


@dataclass(frozen=True)
class SuiteEntry:
    """One perturbation of a suite.

    :param perturbation: the perturbation's name.
    :param family: its family (observation, action, dynamics, timing, ...).
    :param levels: the levels to evaluate, each in ``[0, 1]``.
    :param kwargs: extra arguments for the wrapper.
    """

    perturbation: str
    family: str
    levels: tuple[float, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    """A named list of perturbations with the function that applies one.

    :param name: suite name.
    :param entries: the perturbations.
    :param wrap: ``wrap(env, perturbation, level, **kwargs) -> env``; default
        :func:`~ncp_control.envs.perturbations.registry.make`.
    """

    name: str
    entries: tuple[SuiteEntry, ...]
    wrap: WrapFn = make

    def with_levels(self, levels: Sequence[float] | None) -> Suite:
        """The same suite with every perturbation evaluated at ``levels`` (``None``: unchanged).

        :param levels: levels in ``[0, 1]`` (checked by :func:`check_levels`).
        :return: a new suite.
        """
        if levels is None:
            return self
        checked = check_levels(levels)
        entries = tuple(SuiteEntry(e.perturbation, e.family, checked, e.kwargs) for e in self.entries)
        return Suite(self.name, entries, self.wrap)

    def apply(self, env: gym.Env, entry: SuiteEntry, level: float) -> gym.Env:
        """Wrap ``env`` in one perturbation of the suite.

        :param env: the environment.
        :param entry: the perturbation.
        :param level: its level.
        :return: the wrapped environment.
        """
        return self.wrap(env, entry.perturbation, level, **dict(entry.kwargs))


def available_suites() -> list[str]:
    """:return: the names of the named suites."""
    return sorted(SUITES)


def _known(name: str) -> str:
    if name not in SUITES:
        raise UserError(f"unknown suite {name!r}; choose one of {sorted(SUITES)}")
    return name


def suite(name: str) -> list[tuple[str, tuple[float, ...]]]:
    """:param name: a suite name. :return: its (perturbation, levels) entries.
    :raises ValueError: for an unknown suite."""
    return list(SUITES[_known(name)])


def supported(env: gym.Env, name: str) -> bool:
    """:return: whether the perturbation ``name`` can wrap ``env`` (tried at level 0)."""
    try:
        make(env, name, 0.0)
    except ValueError:
        return False
    return True


def suite_for(env: gym.Env, name: str) -> list[tuple[str, tuple[float, ...]]]:
    """:return: the entries of suite ``name`` that ``env`` supports."""
    return [(perturbation, levels) for perturbation, levels in suite(name) if supported(env, perturbation)]


def resolve_suite(suite: str | Suite, levels: Sequence[float] | None = None, env: gym.Env | None = None) -> Suite:
    """Look a suite up by name (or pass one through), optionally overriding its levels.

    :param suite: a name of :data:`SUITES` or a :class:`Suite`.
    :param levels: levels for every perturbation instead of the suite's own (checked here).
    :param env: keep only the perturbations this environment supports (named suites).
    :return: the suite.
    :raises UserError: for an unknown name, bad levels, or when ``env`` supports none of its entries.
    """
    if isinstance(suite, Suite):
        return suite.with_levels(levels)
    items = SUITES[_known(suite)] if env is None else suite_for(env, suite)
    if not items:
        name = env.spec.id if env is not None and env.spec is not None else type(env).__name__
        raise UserError(f"suite {suite!r} has no perturbation that {name} supports")
    entries = tuple(SuiteEntry(perturbation, get(perturbation).family, tuple(defaults))
                    for perturbation, defaults in items)
    return Suite(suite, entries).with_levels(levels)
