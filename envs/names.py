"""The names of an environment's observation entries: the one place in ``envs`` that reads them.

The convention, for our environments and a user's own: an environment (or a wrapper) whose
observation is a flat vector may state an ``observation_names`` attribute, one short name per
entry (``e_y``, ``yaw_rate``, ``target_dx``...), as its documentation lists them. Pictures of a
policy (the neuron panel of ``ncp-control evaluate --neurons``, ``ncp-control inspect``'s traces)
label the sensory inputs with them.
"""

from __future__ import annotations

import math

import gymnasium as gym

#: The drone-state entries of the quadrotor observations (velocity, rotation matrix, body rates, motors).
DRONE_STATE_NAMES: tuple[str, ...] = (
    "vx", "vy", "vz", "R11", "R12", "R13", "R21", "R22", "R23", "R31", "R32", "R33",
    "roll_rate", "pitch_rate", "yaw_rate", "motor1", "motor2", "motor3", "motor4",
)


def observation_names(env: gym.Env) -> tuple[str, ...] | None:
    """The names of the entries of an environment's observation, searched through its wrappers.

    :param env: the environment (possibly wrapped).
    :return: one name per entry of the flat observation, or None when the environment states
        none, or names that do not fit its observation (a wrapper that changes the shape).
    """
    try:
        names = env.get_wrapper_attr("observation_names")
    except AttributeError:
        return None
    shape = getattr(env.observation_space, "shape", None)
    if names is None or shape is None or len(names) != math.prod(shape):
        return None
    return tuple(str(name) for name in names)
