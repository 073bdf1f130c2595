"""Quadrotor tasks: a Crazyflie-like drone simulated in MuJoCo (numpy and mujoco only).

``QuadHoverEnv`` (``NCPControl/QuadHover-v0``), ``QuadWaypointsEnv``
(``NCPControl/QuadWaypoints-v0``) and ``QuadFlyToTargetEnv`` (``NCPControl/QuadFlyToTarget-v0``)
share :class:`envs.quadrotor.base.QuadrotorEnv`; :mod:`envs.quadrotor.controller` holds
the reference controller and its recorded scores.
"""

from envs.quadrotor.base import QuadrotorEnv
from envs.quadrotor.controller import RANDOM_SCORES, REFERENCE_SCORES, ReferenceController
from envs.quadrotor.fly_to_target import OOD_SPLITS, QuadFlyToTargetEnv
from envs.quadrotor.hover import QuadHoverEnv
from envs.quadrotor.model import CRAZYFLIE, QuadrotorConstants
from envs.quadrotor.waypoints import QuadWaypointsEnv

__all__ = [
    "CRAZYFLIE",
    "OOD_SPLITS",
    "RANDOM_SCORES",
    "REFERENCE_SCORES",
    "QuadFlyToTargetEnv",
    "QuadHoverEnv",
    "QuadWaypointsEnv",
    "QuadrotorConstants",
    "QuadrotorEnv",
    "ReferenceController",
]
