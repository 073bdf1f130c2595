"""Perturbation suites as the evaluation uses them: (perturbation, family, levels) and a wrapper.

Named suites come from :mod:`ncp_control.envs.perturbations`; a :class:`Suite` can also be built by hand
(any ``wrap(env, name, level, **kwargs) -> env`` function), which is how tests and users add
their own shifts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from ncp_control.errors import UserError

#: ``wrap(env, perturbation, level, **kwargs) -> wrapped env``.
WrapFn = Callable[..., gym.Env]


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
    :param wrap: ``wrap(env, perturbation, level, **kwargs) -> env``.
    """

    name: str
    entries: tuple[SuiteEntry, ...]
    wrap: WrapFn

    def with_levels(self, levels: Sequence[float] | None) -> Suite:
        """The same suite with every perturbation evaluated at ``levels`` (``None``: unchanged).

        :param levels: levels in ``[0, 1]``.
        :return: a new suite.
        """
        if levels is None:
            return self
        checked = check_levels(levels)
        entries = tuple(SuiteEntry(e.perturbation, e.family, checked, e.kwargs) for e in self.entries)
        return Suite(self.name, entries, self.wrap)


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """Validate perturbation levels.

    :param levels: levels, each in ``[0, 1]``.
    :return: the sorted distinct levels.
    :raises ValueError: if empty or out of range.
    """
    values = sorted({float(level) for level in levels})
    if not values:
        raise UserError("levels must not be empty")
    bad = [v for v in values if not 0.0 <= v <= 1.0]
    if bad:
        raise UserError(f"levels must be in [0, 1], got {bad}")
    return tuple(values)


def _perturbations() -> Any:
    try:
        import ncp_control.envs.perturbations as perturbations
    except ImportError as error:  # pragma: no cover - depends on the installed envs package
        raise UserError(f"named suites need ncp_control.envs.perturbations, which cannot be imported: {error}") from error
    return perturbations


def available_suites() -> list[str]:
    """:return: the names of the suites defined in :mod:`ncp_control.envs.perturbations`."""
    return sorted(_perturbations().SUITES)


def _family_of(perturbations: Any, name: str) -> str:
    for info in perturbations.available():
        if info["name"] == name if isinstance(info, dict) else getattr(info, "name", None) == name:
            return str(info["family"] if isinstance(info, dict) else info.family)
    return "unknown"


def resolve_suite(suite: str | Suite, levels: Sequence[float] | None = None, env: gym.Env | None = None) -> Suite:
    """Look a suite up by name (or pass one through), optionally overriding its levels.

    :param suite: a suite name from :mod:`ncp_control.envs.perturbations` or a :class:`Suite`.
    :param levels: levels for every perturbation instead of the suite's own.
    :param env: keep only the perturbations this environment supports (named suites).
    :return: the suite.
    :raises ValueError: for an unknown name, or when ``env`` supports none of its entries.
    """
    if isinstance(suite, Suite):
        return suite.with_levels(levels)
    perturbations = _perturbations()
    suites = perturbations.SUITES
    if suite not in suites:
        raise UserError(f"unknown suite {suite!r}; choose one of {sorted(suites)}")
    items = suites[suite] if env is None else perturbations.suite_for(env, suite)
    if not items:
        name = env.spec.id if env is not None and env.spec is not None else type(env).__name__
        raise UserError(f"suite {suite!r} has no perturbation that {name} supports")
    entries = []
    for item in items:
        name, item_levels = item[0], item[1]
        kwargs = dict(item[2]) if len(item) > 2 else {}
        entries.append(SuiteEntry(name, _family_of(perturbations, name), check_levels(item_levels), kwargs))

    def wrap(env: gym.Env, name: str, level: float, **kwargs: Any) -> gym.Env:
        return perturbations.make(env, name, level, **kwargs)

    return Suite(suite, tuple(entries), wrap).with_levels(levels)
