"""Policies as an evaluation sees them: batched, stateful, time-aware.

:func:`~ncp_control.agents.common.evaluation.run_episodes` runs one environment per episode in lock-step and asks the policy for a
batch of actions each step. :func:`as_eval_policy` turns what a user has into an
:class:`EvalPolicy`:

- a trained model with ``predict(obs, state, episode_start, deterministic)`` (SB3 ``PPO``,
  ``SAC``, ``TD3``, sb3-contrib ``RecurrentPPO``, ``LiquidPPO``): the recurrent state is
  carried between calls and reset through ``episode_start``, and the elapsed time of the
  last step is passed as ``dt`` when ``predict`` accepts it;
- a reference controller (any object with ``predict``, ``act`` or ``__call__`` taking one
  observation), or a factory building one per environment;
- :class:`RandomPolicy`, the baseline of retention.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.agents.timespan_obs import TIMESPAN_KEY, with_timespans
from ncp_control.agents.timing import default_time_unit

from ncp_control.errors import UserError
from ncp_control.timespans import to_timespans


def stack_observations(observations: list[Any]) -> Any:
    """Stack single observations into a batch (dicts key by key).

    :param observations: ``n`` observations of one space.
    :return: an array ``[n, ...]`` or a dict of such arrays.
    """
    first = observations[0]
    if isinstance(first, dict):
        return {key: np.stack([obs[key] for obs in observations]) for key in first}
    return np.stack([np.asarray(obs) for obs in observations])


def select_observation(observations: Any, index: int) -> Any:
    """One observation of a batch (dicts key by key).

    :param observations: an array ``[n, ...]`` or a dict of such arrays.
    :param index: which one.
    :return: observation ``index``.
    """
    if isinstance(observations, dict):
        return {key: value[index] for key, value in observations.items()}
    return observations[index]


def _time_keyword(predict: Callable[..., Any]) -> str | None:
    try:
        parameters = inspect.signature(predict).parameters
    except (TypeError, ValueError):
        return None
    for name in ("dt", "timespans", "timespan"):
        if name in parameters:
            return name
    return None


class EvalPolicy:
    """A batched policy for lock-step evaluation of ``n`` episodes."""

    def start(self, envs: list[gym.Env]) -> None:
        """Begin a new set of episodes (one per env); called after the envs are reset.

        :param envs: the environments, one per episode.
        """

    def act(self, observations: Any, episode_start: np.ndarray, dt: np.ndarray) -> np.ndarray:
        """Actions for a batch of observations.

        :param observations: batch ``[n, ...]`` (or a dict of batches).
        :param episode_start: ``[n]`` bool, true on the first step of an episode.
        :param dt: ``[n]`` seconds elapsed during each env's last step (nominal on the first).
        :return: actions ``[n, ...]``.
        """
        raise NotImplementedError


class ModelPolicy(EvalPolicy):
    """An SB3-style model with ``predict(obs, state, episode_start, deterministic)``.

    :param model: the trained model.
    :param deterministic: use the mode of the action distribution.
    :param obs_transform: applied to each observation batch first (e.g. a saved
        ``VecNormalize``'s ``normalize_obs``); default: the observation normalisation of the
        ``VecNormalize`` the model was trained in (``model.get_vec_normalize_env()``), if any,
        so that the model sees observations as in training.
    """

    def __init__(self, model: Any, deterministic: bool = True, obs_transform: Callable[[Any], Any] | None = None):
        self.model = model
        self.deterministic = deterministic
        if obs_transform is None:
            vec = model.get_vec_normalize_env() if hasattr(model, "get_vec_normalize_env") else None
            if vec is not None and vec.norm_obs:
                obs_transform = vec.normalize_obs
        self.obs_transform = obs_transform
        self._time_keyword = _time_keyword(model.predict)
        self._state: Any = None
        #: Seconds per unit of timespan, for a model that reads timespans from its observations
        #: (trained on a TimespanObservation) and an env that does not give them; else None.
        self._time_unit: float | None = None

    @property
    def state(self) -> Any:
        """:return: the recurrent state ``predict`` returned last (``[n, S]``; None before the first step)."""
        return self._state

    def start(self, envs: list[gym.Env]) -> None:
        self._state = None
        space, env_space = getattr(self.model, "observation_space", None), envs[0].observation_space if envs else None
        reads = isinstance(space, gym.spaces.Dict) and TIMESPAN_KEY in space.spaces
        gives = isinstance(env_space, gym.spaces.Dict) and TIMESPAN_KEY in env_space.spaces
        self._time_unit = default_time_unit(envs[0]) if reads and not gives else None

    def act(self, observations: Any, episode_start: np.ndarray, dt: np.ndarray) -> np.ndarray:
        if self._time_unit is not None:  # the timespans the model's TimespanObservation gave in training
            spans = to_timespans(np.asarray(dt, dtype=np.float64), self._time_unit)
            observations = with_timespans(observations, np.asarray(spans, dtype=np.float32).reshape(-1, 1))
        if self.obs_transform is not None:
            observations = self.obs_transform(observations)
        kwargs: dict[str, Any] = {}
        if self._time_keyword is not None:
            kwargs[self._time_keyword] = np.asarray(dt, dtype=np.float32)
        actions, self._state = self.model.predict(
            observations,
            state=self._state,
            episode_start=np.asarray(episode_start, dtype=bool),
            deterministic=self.deterministic,
            **kwargs,
        )
        return np.asarray(actions)


def _takes_observation(method: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in parameters)


def _single_action(controller: Any, observation: Any) -> np.ndarray:
    if hasattr(controller, "act"):
        # privileged controllers read the env's state themselves: ``act()``
        return np.asarray(controller.act(observation) if _takes_observation(controller.act) else controller.act())
    if hasattr(controller, "predict"):
        result = controller.predict(observation)
        return np.asarray(result[0] if isinstance(result, tuple) else result)
    return np.asarray(controller(observation))


class ControllerPolicy(EvalPolicy):
    """A reference controller, one instance per environment.

    :param factory: builds a controller for an environment (``factory(env)``); each
        controller has ``act(obs)``, ``predict(obs)`` or ``__call__(obs)`` and optionally
        ``reset()``, called at each episode start.
    """

    def __init__(self, factory: Callable[[gym.Env], Any]):
        self.factory = factory
        self._controllers: list[Any] = []

    def start(self, envs: list[gym.Env]) -> None:
        self._controllers = [self.factory(env) for env in envs]

    def act(self, observations: Any, episode_start: np.ndarray, dt: np.ndarray) -> np.ndarray:
        actions = []
        for index, controller in enumerate(self._controllers):
            if episode_start[index] and hasattr(controller, "reset"):
                controller.reset()
            actions.append(_single_action(controller, select_observation(observations, index)))
        return np.stack(actions)


class RandomPolicy(EvalPolicy):
    """Uniformly random actions; each episode's action space is seeded from its index.

    :param seed: base seed; episode ``i`` of a set uses ``seed + i``, so the random baseline
        is reproducible and paired like every other policy.
    """

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._spaces: list[gym.Space] = []

    def start(self, envs: list[gym.Env]) -> None:
        self._spaces = []
        for index, env in enumerate(envs):
            space = env.action_space
            space.seed(self.seed + index)
            self._spaces.append(space)

    def act(self, observations: Any, episode_start: np.ndarray, dt: np.ndarray) -> np.ndarray:
        return np.stack([np.asarray(space.sample()) for space in self._spaces])


class PerEpisodePolicies(EvalPolicy):
    """A different policy for each episode of one lock-step set (several policies side by side
    on the same seed: ``ncp-control evaluate RUN RUN reference --render ...``).

    :param policies: policy ``i`` acts in episode ``i``.
    """

    def __init__(self, policies: list[EvalPolicy]) -> None:
        self.policies = list(policies)

    def start(self, envs: list[gym.Env]) -> None:
        if len(envs) != len(self.policies):
            raise ValueError(f"{len(self.policies)} policies for {len(envs)} episodes")
        for policy, env in zip(self.policies, envs):
            policy.start([env])

    def act(self, observations: Any, episode_start: np.ndarray, dt: np.ndarray) -> np.ndarray:
        actions = []
        for index, policy in enumerate(self.policies):
            one = stack_observations([select_observation(observations, index)])
            actions.append(np.asarray(policy.act(one, episode_start[index:index + 1], dt[index:index + 1]))[0])
        return np.stack(actions)


def as_eval_policy(policy: Any, deterministic: bool = True) -> EvalPolicy:
    """Wrap a model, controller or controller factory as an :class:`EvalPolicy`.

    :param policy: an :class:`EvalPolicy`, a model with SB3's ``predict`` signature, a
        controller object, or a callable ``env -> controller``.
    :param deterministic: for models, use the mode of the action distribution.
    :return: the policy to evaluate.
    """
    if isinstance(policy, EvalPolicy):
        return policy
    predict = getattr(policy, "predict", None)
    if predict is not None:
        try:
            parameters = inspect.signature(predict).parameters
        except (TypeError, ValueError):
            parameters = {}  # type: ignore[assignment]
        if "episode_start" in parameters or "state" in parameters:
            return ModelPolicy(policy, deterministic=deterministic)
    if hasattr(policy, "act") or hasattr(policy, "predict"):
        return ControllerPolicy(lambda env: copy.deepcopy(policy))
    if callable(policy):
        return ControllerPolicy(policy)
    raise UserError(
        f"cannot evaluate {type(policy).__name__}: expected a model with predict(obs, state, episode_start, "
        "deterministic), a controller with act(obs), or a factory env -> controller"
    )


def reference_policy(env_id: str) -> EvalPolicy:
    """The reference controller of one of our tasks, as an evaluation policy.

    :param env_id: ``NCPControl/LaneKeeping-v0`` or a quadrotor task.
    :return: the controller policy (one controller per evaluated env; on the camera observation
        of lane keeping, the controller reads the true state: it is privileged).
    :raises ValueError: for a task without a reference controller.
    """
    if env_id == "NCPControl/LaneKeeping-v0":
        from ncp_control.envs.car.controller import reference_controller

        return ControllerPolicy(reference_controller)
    if env_id.startswith("NCPControl/Quad"):
        from ncp_control.envs.quadrotor.controller import ReferenceController

        return ControllerPolicy(ReferenceController)
    raise UserError(
        f"no reference controller for {env_id!r}; there is one for NCPControl/LaneKeeping-v0 and the "
        "NCPControl/Quad* tasks"
    )
