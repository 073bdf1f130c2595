"""Quadrotor tasks: a Crazyflie-like drone simulated in MuJoCo (numpy and mujoco only).

``QuadHoverEnv`` (``NCPControl/QuadHover-v0``), ``QuadWaypointsEnv``
(``NCPControl/QuadWaypoints-v0``) and ``QuadFlyToTargetEnv`` (``NCPControl/QuadFlyToTarget-v0``)
share :class:`ncp_control.envs.quadrotor.base.QuadrotorEnv`; :mod:`ncp_control.envs.quadrotor.controller` holds
the reference controller and its recorded scores.
"""

from ncp_control.envs.quadrotor.base import QuadrotorEnv
from ncp_control.envs.quadrotor.controller import RANDOM_SCORES, REFERENCE_SCORES, ReferenceController
from ncp_control.envs.quadrotor.fly_to_target import OOD_SPLITS, QuadFlyToTargetEnv
from ncp_control.envs.quadrotor.hover import QuadHoverEnv
from ncp_control.envs.quadrotor.model import CRAZYFLIE, QuadrotorConstants
from ncp_control.envs.quadrotor.waypoints import QuadWaypointsEnv

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
