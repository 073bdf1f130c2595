"""Named suites: lists of (perturbation, levels) that robustness evaluations sweep.

Every suite holds perturbations that apply to a policy trained on the clean task (no
distractor dimensions, which change the observation's shape). ``visual`` needs image
observations; ``task`` shifts need our own tasks. Entries whose perturbation an environment
cannot take are skipped by :func:`suite_for`.
"""

from __future__ import annotations

import gymnasium as gym
from ncp_control.envs.perturbations.registry import get, make

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


def suite(name: str) -> list[tuple[str, tuple[float, ...]]]:
    """:param name: a suite name. :return: its (perturbation, levels) entries.
    :raises ValueError: for an unknown suite."""
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; choose one of {sorted(SUITES)}")
    return list(SUITES[name])


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
