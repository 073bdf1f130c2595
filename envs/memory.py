"""Memory tests: standard tasks with the velocity entries removed from the observation.

Without velocities the current observation no longer determines the state, so a policy must
infer velocities from the history of observations: the standard check that a recurrent policy
uses its memory. :class:`NoVelocityObservation` keeps the entries listed below, derived from the
observation layouts documented by Gymnasium.

| base task | observation | kept indices | kept entries |
|---|---|---|---|
| Pendulum-v1 | cos th, sin th, th_dot | 0, 1 | cos th, sin th |
| CartPole-v1 | x, x_dot, th, th_dot | 0, 2 | cart position, pole angle |
| MountainCarContinuous-v0 | position, velocity | 0 | position |
| HalfCheetah-v5 | qpos[1:] (8), qvel (9) | 0-7 | root height and angle, 6 joint angles |
| Hopper-v5 | qpos[1:] (5), qvel (6) | 0-4 | root height and angle, 3 joint angles |
| Walker2d-v5 | qpos[1:] (8), qvel (9) | 0-7 | root height and angle, 6 joint angles |
| Ant-v5 | qpos[2:] (13), qvel (14), contact forces (78) | 0-12, 27-104 | torso height and orientation, 8 joint angles, contact forces |

The kept entries of the classic tasks are named in the wrapper's ``observation_names``
(``cos_theta``, ``sin_theta``; ``x``, ``theta``; ``position``).

For the MuJoCo tasks the indices follow the model's ``nq``/``nv`` and the
``exclude_current_positions_from_observation`` / ``include_cfrc_ext_in_observation`` arguments,
so those arguments keep working. ``info["dt"]`` on every step is the base task's control period:
MuJoCo ``dt`` (``timestep * frame_skip``), Pendulum's ``dt`` (0.05 s), CartPole's ``tau``
(0.02 s); MountainCar's update has no time unit, so one step counts as 1.0.

The classic tasks are built from :mod:`ncp_control.envs.classic` (the Gymnasium classes with their constants
behind :class:`ncp_control.envs.params.PhysicalParams`), so dynamics perturbations reach them too; the MuJoCo
tasks are changed through their MuJoCo model.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from ncp_control.envs.classic import CLASSES, make_classic
from ncp_control.envs.period import RESET_INFO_KEY

#: Classic tasks: id -> names of the kept entries (``observation_names``).
CLASSIC_NAMES: dict[str, tuple[str, ...]] = {
    "Pendulum-v1": ("cos_theta", "sin_theta"),
    "CartPole-v1": ("x", "theta"),
    "MountainCarContinuous-v0": ("position",),
}
#: Classic tasks: id -> (kept indices, control period in seconds).
CLASSIC_KEPT: dict[str, tuple[tuple[int, ...], float]] = {
    "Pendulum-v1": ((0, 1), 0.05),
    "CartPole-v1": ((0, 2), 0.02),
    "MountainCarContinuous-v0": ((0,), 1.0),
}
#: MuJoCo tasks whose observation is ``[qpos[k:], qvel, extras]``: id -> ``k`` when positions are excluded.
MUJOCO_EXCLUDED: dict[str, int] = {"HalfCheetah-v5": 1, "Hopper-v5": 1, "Walker2d-v5": 1, "Ant-v5": 2}
SUPPORTED = tuple(CLASSIC_KEPT) + tuple(MUJOCO_EXCLUDED)


def velocity_free_indices(base_id: str, env: gym.Env) -> tuple[np.ndarray, float]:
    """The observation indices that hold no velocity, and the control period.

    :param base_id: the standard task's id (one of :data:`SUPPORTED`).
    :param env: an instance of it (for the MuJoCo model's sizes and options).
    :return: kept indices (int array) and ``dt`` (s).
    :raises ValueError: for an unsupported task.
    """
    if base_id in CLASSIC_KEPT:
        kept, dt = CLASSIC_KEPT[base_id]
        return np.array(kept, dtype=np.int64), dt
    if base_id in MUJOCO_EXCLUDED:
        base = env.unwrapped
        excluded = MUJOCO_EXCLUDED[base_id] if getattr(base, "_exclude_current_positions_from_observation", True) else 0
        n_pos = base.model.nq - excluded  # type: ignore[attr-defined]
        n_vel = base.model.nv  # type: ignore[attr-defined]
        size = env.observation_space.shape[0]  # type: ignore[index]
        kept = np.r_[np.arange(n_pos), np.arange(n_pos + n_vel, size)].astype(np.int64)
        return kept, float(base.dt)  # type: ignore[attr-defined]
    raise ValueError(f"no velocity-free observation is defined for {base_id!r}; supported base tasks: {SUPPORTED}")


class NoVelocityObservation(gym.ObservationWrapper):
    """Removes the velocity entries of a standard task's observation and reports ``info["dt"]``.

    :param env: an instance of one of :data:`SUPPORTED` (possibly wrapped).
    :param base_id: its id; by default read from ``env.spec``.
    """

    def __init__(self, env: gym.Env, base_id: str | None = None) -> None:
        super().__init__(env)
        if base_id is None:
            if env.spec is None:
                raise ValueError("base_id is required for an environment without a spec")
            base_id = env.spec.id
        self.base_id = base_id
        self.kept, self.control_dt = velocity_free_indices(base_id, env)
        #: The base task's control period (s), as reported in ``info["dt"]``.
        self.nominal_dt = self.control_dt
        box = env.observation_space
        assert isinstance(box, spaces.Box)
        self.observation_space = spaces.Box(box.low[self.kept], box.high[self.kept], dtype=box.dtype)  # type: ignore[arg-type]
        #: names of the kept entries (classic tasks; None for the MuJoCo ones)
        self.observation_names = CLASSIC_NAMES.get(base_id)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        """:param observation: the full observation, shape ``[D]``.
        :return: the kept entries, shape ``[len(kept)]``."""
        return observation[self.kept]

    def step(self, action: Any) -> tuple[np.ndarray, Any, bool, bool, dict]:
        """Step the task; ``info["dt"]`` is added unless the task already reports it."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        info.setdefault("dt", self.control_dt)
        return self.observation(obs), reward, terminated, truncated, info

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict]:
        """Reset the task; the info carries the nominal control period (``"nominal_dt"``)."""
        obs, info = self.env.reset(**kwargs)
        return self.observation(obs), {**info, RESET_INFO_KEY: self.nominal_dt}


def make_no_velocity_env(base_id: str, **kwargs: Any) -> gym.Env:
    """Make a standard task without its velocity entries (the ``NCPControl/*NoVel*`` entry point).

    :param base_id: one of :data:`SUPPORTED`.
    :param kwargs: arguments for ``gym.make(base_id, ...)`` (e.g. ``render_mode``).
    :return: the wrapped environment.
    :raises ValueError: for an unsupported task.
    """
    if base_id not in SUPPORTED:
        raise ValueError(f"no velocity-free observation is defined for {base_id!r}; supported base tasks: {SUPPORTED}")
    if base_id in CLASSES:  # the same task, with its constants behind PhysicalParams
        return NoVelocityObservation(make_classic(base_id, disable_env_checker=True, **kwargs), base_id)
    return NoVelocityObservation(gym.make(base_id, disable_env_checker=True, **kwargs), base_id)
