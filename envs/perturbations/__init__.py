"""Perturbation wrappers: shift the world an agent sees and acts in, by a calibrated level.

>>> import gymnasium as gym
>>> from envs import perturbations
>>> env = perturbations.make(gym.make("HalfCheetah-v5"), "mass", level=0.5)  # +25% mass
>>> [p.name for p in perturbations.available("timing")]
['control_rate', 'dt_jitter']
>>> env = perturbations.compose(gym.make("HalfCheetah-v5"), [("gaussian_noise", 0.5), ("gust", 1.0)])  # one layer

See :mod:`ncp_control.envs.perturbations.base` for the shared interface (level, scale, schedule,
seeding, ``info["perturbation"]``) and :mod:`ncp_control.envs.perturbations.suites` for named suites.
"""

from ncp_control.envs.perturbations.base import Perturbation, check_level
from ncp_control.envs.perturbations.registry import (
    PERTURBATIONS,
    PerturbationInfo,
    available,
    compose,
    get,
    make,
    make_stack,
    parse_perturbation,
)
from ncp_control.envs.perturbations.schedules import (
    Constant,
    Drift,
    Impulse,
    Periodic,
    RandomWalk,
    Schedule,
    Step,
    make_schedule,
)
from ncp_control.envs.perturbations.stack import Stack
from ncp_control.envs.perturbations.suites import (
    LEVELS,
    SUITES,
    Suite,
    SuiteEntry,
    available_suites,
    check_levels,
    resolve_suite,
    suite,
    suite_for,
    supported,
)
from ncp_control.envs.perturbations.train_shift import ShiftRandomization, TrainShift, parse_train_shift

__all__ = [
    "LEVELS",
    "PERTURBATIONS",
    "SUITES",
    "Constant",
    "Drift",
    "Impulse",
    "Periodic",
    "Perturbation",
    "PerturbationInfo",
    "RandomWalk",
    "Schedule",
    "ShiftRandomization",
    "Stack",
    "Step",
    "Suite",
    "SuiteEntry",
    "TrainShift",
    "available",
    "available_suites",
    "check_level",
    "check_levels",
    "compose",
    "get",
    "make",
    "make_schedule",
    "make_stack",
    "parse_perturbation",
    "parse_train_shift",
    "resolve_suite",
    "suite",
    "suite_for",
    "supported",
]
