"""Registers every environment of the package under the ``NCPControl/`` namespace.

Entry points are strings, so registering imports no simulator code.
"""

from __future__ import annotations

import gymnasium as gym

#: Our own tasks: id -> (entry point, max_episode_steps).
OWN_TASKS: dict[str, tuple[str, int]] = {
    "NCPControl/QuadHover-v0": ("ncp_control.envs.quadrotor.hover:QuadHoverEnv", 500),
    "NCPControl/QuadWaypoints-v0": ("ncp_control.envs.quadrotor.waypoints:QuadWaypointsEnv", 1000),
    "NCPControl/QuadFlyToTarget-v0": ("ncp_control.envs.quadrotor.fly_to_target:QuadFlyToTargetEnv", 500),
    "NCPControl/LaneKeeping-v0": ("ncp_control.envs.car.lane_keeping:LaneKeepingEnv", 1000),
}

#: Partially observable variants: id -> the standard task whose velocities are removed.
NO_VELOCITY_TASKS: dict[str, str] = {
    "NCPControl/PendulumNoVel-v1": "Pendulum-v1",
    "NCPControl/CartPoleNoVel-v1": "CartPole-v1",
    "NCPControl/MountainCarContinuousNoVel-v0": "MountainCarContinuous-v0",
    "NCPControl/HalfCheetahNoVel-v5": "HalfCheetah-v5",
    "NCPControl/HopperNoVel-v5": "Hopper-v5",
    "NCPControl/Walker2dNoVel-v5": "Walker2d-v5",
    "NCPControl/AntNoVel-v5": "Ant-v5",
}

#: Tasks in other units (``ncp_control.envs.units``): id -> (base id, observation scale, reward scale).
RESCALED_TASKS: dict[str, tuple[str, float, float]] = {
    "NCPControl/CartPoleNoVelRescaled-v1": ("NCPControl/CartPoleNoVel-v1", 1000.0, 100.0),
}


def register_all() -> None:
    """Register every ``NCPControl/`` environment once (idempotent)."""
    for env_id, (entry_point, max_steps) in OWN_TASKS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, max_episode_steps=max_steps)
    for env_id, base_id in NO_VELOCITY_TASKS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point="ncp_control.envs.memory:make_no_velocity_env",
                kwargs={"base_id": base_id},
            )
    for env_id, (base_id, observation_scale, reward_scale) in RESCALED_TASKS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point="ncp_control.envs.units:make_rescaled_env",
                kwargs={"base_id": base_id, "observation_scale": observation_scale, "reward_scale": reward_scale},
            )
