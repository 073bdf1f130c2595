"""What the package's algorithms add to Stable-Baselines3's: recurrent ``predict`` and checked ``load``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
import torch as th
from ncp_control.agents.device import recurrent_device
from ncp_control.agents.timing import first_step_seconds
from ncp_control.agents.zips import liquid_zip

from ncp_control.timespans import to_timespans

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

SelfLoaded = TypeVar("SelfLoaded", bound="BaseAlgorithm")


class RecurrentAlgorithmMixin:
    """What LiquidPPO, LiquidSAC and LiquidTD3 add to SB3's algorithms (put first among the bases):
    the rollout's recurrent state and timespans, set up where ``learn`` starts; ``predict`` with
    the policy state and ``dt``; and a ``load`` that checks the file first
    (:func:`~ncp_control.agents.zips.liquid_zip`) and puts the model on the recurrent policies'
    device (:func:`~ncp_control.agents.device.recurrent_device`).

    A subclass sets :attr:`zip_name`, implements :meth:`_initial_rollout_state`, and has a
    ``policy`` with ``time_unit`` and ``predict(observation, state, episode_start, deterministic,
    dt=...)``, and a ``use_info_dt`` flag.
    """

    #: What :func:`zip_algorithm` calls this algorithm's zips (subclasses load them too).
    zip_name: ClassVar[str]

    policy: Any
    use_info_dt: bool
    env: Any
    n_envs: int
    _last_obs: Any
    #: Rollout state: the policy state before each env's next step ``[n_envs, S]``, that step's
    #: timespan ``[n_envs]`` (time units), and the timespan of an episode's first step.
    _last_state: th.Tensor | None
    _last_timespans: np.ndarray | None
    _start_timespan: float

    device: th.device

    @property
    def time_unit(self) -> float:
        """Seconds per unit of timespan (the policy's: ``policy.time_unit``)."""
        return float(self.policy.time_unit)

    def _timespans_tensor(self, timespans: np.ndarray) -> th.Tensor | None:
        """:param timespans: ``[n_envs]`` in time units. :return: them as a tensor, or None
        where ``use_info_dt`` is False (one unit per step)."""
        return th.as_tensor(timespans, device=self.device) if self.use_info_dt else None

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_last_state", "_last_timespans", "_start_timespan"]  # type: ignore[misc]

    def _initial_rollout_state(self, n_envs: int) -> th.Tensor:
        """:return: the state every env's first step starts from ``[n_envs, S]`` (a subclass's)."""
        raise NotImplementedError

    def _setup_learn(self, total_timesteps: int, callback: Any = None, reset_num_timesteps: bool = True,
                     tb_log_name: str = "run", progress_bar: bool = False) -> tuple[int, Any]:
        """SB3's set-up, then the rollout's timespans, and its states where the envs were reset
        (or their number changed): :meth:`_initial_rollout_state`, and one nominal control
        period for every env's first step (:func:`~ncp_control.agents.timing.first_step_seconds`)."""
        fresh = reset_num_timesteps or self._last_obs is None
        result = super()._setup_learn(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)  # type: ignore[misc]
        n_envs = self.env.num_envs if self.env is not None else self.n_envs
        self._start_timespan = float(to_timespans(first_step_seconds(self.env), self.policy.time_unit))
        if fresh or self._last_state is None or self._last_state.shape[0] != n_envs:
            self._last_state = self._initial_rollout_state(n_envs)
            self._last_timespans = np.full(n_envs, self._start_timespan, dtype=np.float32)
        return result  # type: ignore[no-any-return]

    def predict(  # type: ignore[override]
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: np.ndarray | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        dt: np.ndarray | float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Actions and the policy's next state, as sb3-contrib's recurrent ``predict`` (see the
        policy's ``predict``: :meth:`ncp_control.agents.policies.RecurrentSequencePolicy.predict`,
        :meth:`ncp_control.agents.sac_policy.RecurrentSACPolicy.predict`).

        :param observation: one observation or a batch ``[n_envs, ...]``.
        :param state: the state from the previous call, or None (at rest).
        :param episode_start: ``[n_envs]``: 1 where the observation starts an episode.
        :param deterministic: the mean (most likely) action instead of a sample.
        :param dt: elapsed time since the previous observation in seconds (``info["dt"]``);
            ignored when ``use_info_dt`` is False.
        :return: the actions and the state.
        """
        return self.policy.predict(observation, state, episode_start, deterministic,  # type: ignore[no-any-return]
                                   dt=dt if self.use_info_dt else None)

    @classmethod
    def load(cls: type[SelfLoaded], path: Any, env: Any = None, device: th.device | str = "auto",  # type: ignore[misc]
             custom_objects: dict[str, Any] | None = None, print_system_info: bool = False, force_reset: bool = True,
             **kwargs: Any) -> SelfLoaded:
        """SB3's ``load``: open a ``.zip`` written by ``save``.

        The zip's ``data`` holds pickled objects that are unpickled here, and unpickling can
        run arbitrary code: load only files you made or trust. Weights-only alternatives that
        unpickle nothing: :func:`ncp_control.agents.load_policy` (deployment) and
        :func:`ncp_control.agents.runs.load_model` on a run folder or model state folder.

        :param path: the zip file (a missing file or another algorithm's zip is refused with one line).
        :param env: the env to attach.
        :param device: torch device ("auto": the CPU).
        :param custom_objects: objects that replace stored ones (see SB3).
        :param print_system_info: print the saving and the current system's versions.
        :param force_reset: reset the env before the next ``learn``.
        :param kwargs: attributes to set on the model.
        :return: the model.
        """
        path = liquid_zip(path, cls.zip_name)  # type: ignore[attr-defined]
        return super().load(path, env=env, device=recurrent_device(device), custom_objects=custom_objects,  # type: ignore[misc]
                            print_system_info=print_system_info, force_reset=force_reset, **kwargs)
