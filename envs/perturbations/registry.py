"""The catalogue: every perturbation by name, ``make`` and ``available``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import gymnasium as gym
from ncp_control.envs.perturbations import action, dynamics, image, observation, task, timing, wind
from ncp_control.envs.perturbations.base import Perturbation, check_level

from ncp_control.errors import UserError

#: one perturbation of a stack: ``(name, level)`` or ``(name, level, kwargs)``.
Entry = tuple[str, float] | tuple[str, float, dict[str, Any]]

_CLASSES: tuple[type[Perturbation], ...] = (
    observation.GaussianNoise,
    observation.UniformNoise,
    observation.Bias,
    observation.Dropout,
    observation.StuckSensor,
    observation.ObservationDelay,
    observation.Distractor,
    image.ImageBrightness,
    image.ImageContrast,
    image.ImageNoise,
    image.ImageOcclusion,
    action.ActionNoise,
    action.ActionBias,
    action.ActionDelay,
    action.StickyAction,
    action.GainLoss,
    action.MotorFailure,
    action.ActuatorLag,
    action.RateLimit,
    dynamics.Mass,
    dynamics.Inertia,
    dynamics.Friction,
    dynamics.Damping,
    dynamics.Gravity,
    wind.Wind,
    wind.Gust,
    wind.SineWind,
    dynamics.ExternalForce,
    dynamics.Impulse,
    timing.ControlRate,
    timing.DtJitter,
    task.RoadCurvature,
    task.Speed,
    task.Palette,
    task.TargetRange,
    task.Background,
    task.Distractors,
)

#: name -> wrapper class.
PERTURBATIONS: dict[str, type[Perturbation]] = {cls.name: cls for cls in _CLASSES}


class PerturbationInfo(NamedTuple):
    """One catalogue entry, as listed by :func:`available`."""

    name: str
    family: str
    description: str
    unit: str
    #: the magnitude at level 1 (in ``unit``).
    level_one: float
    #: the environments it works on.
    supports: str


def available(family: str | None = None) -> list[PerturbationInfo]:
    """List the perturbations.

    :param family: only this family (``observation``, ``action``, ``dynamics``, ``timing``,
        ``task``), or ``None`` for all.
    :return: one entry per perturbation, in catalogue order.
    :raises ValueError: for an unknown family.
    """
    families = sorted({cls.family for cls in _CLASSES})
    if family is not None and family not in families:
        raise ValueError(f"unknown perturbation family {family!r}; choose one of {families}")
    return [
        PerturbationInfo(cls.name, cls.family, cls.description, cls.unit, cls.default_scale, cls.supports)
        for cls in _CLASSES
        if family is None or cls.family == family
    ]


def get(name: str) -> type[Perturbation]:
    """:param name: a perturbation name. :return: its class. :raises ValueError: if unknown."""
    if name not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {name!r}; choose one of {sorted(PERTURBATIONS)}")
    return PERTURBATIONS[name]


def split_level(text: Any, option: str, form: str) -> tuple[str, float | None]:
    """Read ``NAME[:LEVEL]`` as given on a command line (the one reader of that form).

    :param text: e.g. ``"friction:0.5"``.
    :param option: the option, for errors (``--perturb``).
    :param form: the form the option takes, for errors (``NAME:LEVEL``).
    :return: the name and the level (None where not given).
    :raises UserError: for an empty text or a level that is not a finite number.
    """
    if not isinstance(text, str) or not text.strip():
        raise UserError(f"{option} takes {form}, got {text!r}")
    name, colon, level_text = text.strip().partition(":")
    if not colon:
        return name, None
    try:
        level = float(level_text)
    except ValueError:
        raise UserError(f"{option} {text}: the level must be a number, got {level_text!r}") from None
    if not math.isfinite(level):
        raise UserError(f"{option} {text}: the level must be a finite number, got {level_text}")
    return name, level


def parse_perturbation(text: Any, option: str = "--perturb") -> tuple[str, float]:
    """Read one perturbation and its level, ``NAME[:LEVEL]`` (level 1 where not given).

    :param text: e.g. ``"friction:0.5"``, ``"palette:1"``.
    :param option: the option, for errors.
    :return: ``(name, level)``.
    :raises UserError: naming the option, for an unknown name or a level outside [0, 1].
    """
    name, level = split_level(text, option, "NAME[:LEVEL]")
    if name not in PERTURBATIONS:
        raise UserError(f"{option} {text}: unknown perturbation {name!r}; choose one of {sorted(PERTURBATIONS)}")
    level = 1.0 if level is None else level
    if not 0.0 <= level <= 1.0:
        raise UserError(f"{option} {text}: the level must be in [0, 1], got {level:g}")
    return name, level


def make(env: gym.Env, name: str, level: float, **kwargs: Any) -> Perturbation:
    """Wrap ``env`` in the perturbation ``name`` at ``level``.

    :param env: the environment (a Gymnasium env, possibly wrapped already).
    :param name: a name from :func:`available`.
    :param level: severity in [0, 1].
    :param kwargs: the wrapper's own arguments (``scale``, ``schedule``, ``seed``, ...).
    :return: the wrapped environment.
    :raises ValueError: for an unknown name, a level outside [0, 1], bad arguments, or an
        environment that lacks what the perturbation needs (the message says which
        environments support it).
    """
    cls = get(name)
    check_level(level)
    try:
        return cls(env, level, **kwargs)
    except TypeError as error:
        raise ValueError(f"bad arguments for perturbation {name!r}: {error}") from None


def make_stack(env: gym.Env, perturbations: Sequence[Entry]) -> gym.Env:
    """Wrap ``env`` in several perturbations, the first innermost, one wrapper each.

    :func:`compose` gives the same results in fewer wrapper layers, faster.

    :param env: the environment.
    :param perturbations: ``(name, level)`` or ``(name, level, kwargs)`` entries.
    :return: the wrapped environment.
    """
    for entry in perturbations:
        name, level, *rest = entry
        env = make(env, name, level, **(rest[0] if rest else {}))
    return env


def _check_entries(perturbations: Any) -> None:
    """Refuse anything but a sequence of ``(name, level)`` or ``(name, level, kwargs)`` entries
    (a bare name would otherwise be read letter by letter)."""
    if isinstance(perturbations, (str, bytes)) or not isinstance(perturbations, Sequence):
        raise ValueError(
            f"perturbations must be a list of (name, level) or (name, level, kwargs) entries, got "
            f"{perturbations!r}: pass e.g. [({perturbations!r}, 0.5)]"
        )
    for entry in perturbations:
        if (not isinstance(entry, (tuple, list)) or len(entry) not in (2, 3) or not isinstance(entry[0], str)
                or (len(entry) == 3 and not isinstance(entry[2], dict))):
            raise ValueError(f"perturbations: each entry must be (name, level) or (name, level, kwargs), got {entry!r}")


def compose(env: gym.Env, perturbations: Sequence[Entry]) -> gym.Env:
    """Wrap ``env`` in several perturbations, the first innermost, in as few layers as possible.

    Consecutive fusable perturbations (all but the timing ones) run in one wrapper layer, a
    :class:`~ncp_control.envs.perturbations.stack.Stack`, whose observations, rewards, random numbers and
    ``info["perturbation"]`` are exactly those of :func:`make_stack`'s nested wrappers, at a
    fraction of the per-step cost; each timing perturbation gets a layer of its own.

    :param env: the environment.
    :param perturbations: ``(name, level)`` or ``(name, level, kwargs)`` entries.
    :return: the wrapped environment.
    :raises ValueError: as :func:`make`, for any entry.
    """
    from ncp_control.envs.perturbations.stack import Stack

    _check_entries(perturbations)
    group: list[Entry] = []
    for entry in [*perturbations, None]:
        if entry is not None and get(entry[0]).fusable():
            group.append(entry)
            continue
        env = Stack(env, group) if len(group) > 1 else make_stack(env, group)
        group = []
        if entry is not None:
            env = make_stack(env, [entry])
    return env
