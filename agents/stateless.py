"""Stateless NCP actors for SB3's ``PPO``, ``SAC`` and ``TD3``.

For each observation, the NCP starts at rest and is unrolled ``ode_steps`` steps with the
observation held as its input; its motor neurons are the actor's latent. No state crosses
env steps, so these policies fit SB3's feed-forward algorithms unchanged. Each unroll step
lasts the env step's timespan when the env is wrapped in
:class:`~ncp_control.agents.timespan_obs.TimespanObservation` (so the unroll follows the
step's duration), 1.0 otherwise.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import torch as th
from gymnasium import spaces
from ncp_control.agents.sequence import LIQUID_NETWORKS, make_liquid
from ncp_control.agents.timespan_obs import TimeSlot, slot_of, use_timespan_extractor
from ncp_control.agents.wiring import build_wiring
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import create_mlp
from stable_baselines3.sac.policies import Actor as SACActor
from stable_baselines3.sac.policies import SACPolicy
from stable_baselines3.td3.policies import Actor as TD3Actor
from stable_baselines3.td3.policies import TD3Policy
from torch import nn

from ncp_control.errors import UserError
from ncp_control.fast.inference import clear_cache

#: Defaults of the NCP actor options shared by the three policies.
NCP_DEFAULTS: dict[str, Any] = {
    "network": "cfc",
    "units": 16,
    "motor_neurons": None,
    "ode_steps": 3,
    "sparsity_level": 0.5,
    "wiring_seed": 22222,
    "cell_kwargs": None,
}


class StatelessNCP(nn.Module):
    """An NCP run from rest for ``ode_steps`` steps on a constant input: ``[B, F] -> [B, M]``.

    :param input_size: F.
    :param network: ``"cfc"``, ``"ltc"`` or ``"ctrnn"``.
    :param units: neurons of the AutoNCP wiring.
    :param motor_neurons: M.
    :param ode_steps: unroll steps per observation.
    :param sparsity_level: AutoNCP sparsity.
    :param wiring_seed: wiring seed.
    :param cell_kwargs: liquid cell options (``implementation`` defaults to ``"fast"``).
    """

    def __init__(
        self,
        input_size: int,
        network: str,
        units: int,
        motor_neurons: int,
        ode_steps: int,
        sparsity_level: float,
        wiring_seed: int,
        cell_kwargs: dict[str, Any] | None,
    ) -> None:
        super().__init__()
        if network not in LIQUID_NETWORKS:
            raise UserError(f"network must be one of {LIQUID_NETWORKS}, got {network!r}")
        if ode_steps < 1:
            raise UserError(f"ode_steps must be >= 1, got {ode_steps}")
        wiring = build_wiring("ncp", units, motor_neurons, input_size, sparsity_level, wiring_seed)
        options = dict(cell_kwargs or {})
        options.setdefault("implementation", "fast")
        self.model = make_liquid(network, input_size, wiring, options)
        self.ode_steps = ode_steps
        self.output_size = motor_neurons
        #: Where the env steps' timespans are (a TimespanExtractor's), or None: each unroll step lasts 1.0.
        self.slot: TimeSlot | None = None
        #: A target network whose weights are written through ``.data`` (SB3's ``polyak_update``),
        #: which the cells' no-grad paths cannot see: they forget their packed weights before each call.
        self.written_through_data = False

    def forward(self, x: th.Tensor) -> th.Tensor:
        """:param x: ``[B, F]``. :return: motor neurons after the last step, ``[B, M]``."""
        if self.written_through_data:
            for module in self.model.modules():
                clear_cache(module)
        timespans = None
        if self.slot is not None and self.slot.timespans is not None:
            timespans = self.slot.timespans.reshape(-1, 1).expand(-1, self.ode_steps).contiguous()
        y, _ = self.model(x.unsqueeze(1).expand(-1, self.ode_steps, -1).contiguous(), None, timespans)
        return y[:, -1]


def _ncp_options(given: dict[str, Any], action_dim: int) -> dict[str, Any]:
    given = dict(given)
    if "ncp_units" in given:  # the old name of ``units``
        warnings.warn("the policy option ncp_units is deprecated; use units", DeprecationWarning, stacklevel=4)
        if "units" in given:
            raise UserError("give units, not both units and its deprecated alias ncp_units")
        given["units"] = given.pop("ncp_units")
    options = {**NCP_DEFAULTS, **given}
    if options["motor_neurons"] is None:
        options["motor_neurons"] = action_dim
    return options


def _pop_ncp(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: kwargs.pop(key) for key in list(kwargs) if key in NCP_DEFAULTS or key == "ncp_units"}


def _action_dim(action_space: spaces.Space) -> int:
    if isinstance(action_space, spaces.Box):
        return int(np.prod(action_space.shape))
    if isinstance(action_space, spaces.Discrete):
        return int(action_space.n)
    raise UserError(f"NCP actors support Box and Discrete action spaces, got {action_space}")


class _NCPExtractor(nn.Module):
    """Actor latent from a stateless NCP, critic latent from an MLP (the MlpExtractor interface)."""

    def __init__(self, features_dim: int, ncp: dict[str, Any], vf_arch: list[int], activation_fn: type[nn.Module]) -> None:
        super().__init__()
        self.policy_net = StatelessNCP(features_dim, **ncp)
        self.value_net = nn.Sequential(*create_mlp(features_dim, -1, vf_arch, activation_fn))
        self.latent_dim_pi = self.policy_net.output_size
        self.latent_dim_vf = vf_arch[-1] if vf_arch else features_dim

    def forward(self, features: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: th.Tensor) -> th.Tensor:
        return self.policy_net(features)

    def forward_critic(self, features: th.Tensor) -> th.Tensor:
        return self.value_net(features)


class NCPActorCriticPolicy(ActorCriticPolicy):
    """SB3 ``PPO``/``A2C`` policy with a stateless NCP actor and an MLP critic.

    Takes ``ActorCriticPolicy``'s arguments (``net_arch`` sizes the critic, default
    ``[64, 64]``) plus the NCP options ``network``, ``units``, ``motor_neurons`` (default:
    the action dimension), ``ode_steps``, ``sparsity_level``, ``wiring_seed``, ``cell_kwargs``
    (``ncp_units`` is a deprecated alias of ``units``: it warns and still works).
    """

    #: Reads each step's timespan from a TimespanObservation (``ncp-control train`` wraps its envs in one).
    reads_timespans: ClassVar[bool] = True

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space, lr_schedule: Any, **kwargs: Any) -> None:
        self.ncp_options = _ncp_options(_pop_ncp(kwargs), _action_dim(action_space))
        use_timespan_extractor(observation_space, kwargs)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)
        extractor: Any = self.mlp_extractor
        extractor.policy_net.slot = slot_of(self.pi_features_extractor)

    def _build_mlp_extractor(self) -> None:
        arch = self.net_arch
        vf_arch = list(arch.get("vf", [64, 64])) if isinstance(arch, dict) else list(arch if arch else [64, 64])
        self.mlp_extractor = _NCPExtractor(self.features_dim, self.ncp_options, vf_arch, self.activation_fn)  # type: ignore[assignment]

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), **self.ncp_options}


class NCPSACActor(SACActor):
    """SAC actor whose latent is a stateless NCP (mean and log-std heads on its motor neurons)."""

    def __init__(self, *args: Any, ncp_options: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.use_sde:
            raise UserError("the NCP SAC actor does not support use_sde")
        self.ncp_options = ncp_options
        ncp = StatelessNCP(self.features_dim, **ncp_options)
        ncp.slot = slot_of(self.features_extractor)
        action_dim = int(np.prod(self.action_space.shape or (1,)))
        self.latent_pi = ncp  # type: ignore[assignment]
        self.mu = nn.Linear(ncp.output_size, action_dim)
        self.log_std = nn.Linear(ncp.output_size, action_dim)  # type: ignore[assignment]

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "ncp_options": self.ncp_options}


class NCPSACPolicy(SACPolicy):
    """SB3 ``SAC`` policy with a stateless NCP actor (MLP critics); NCP options as
    :class:`NCPActorCriticPolicy`."""

    #: Reads each step's timespan from a TimespanObservation (``ncp-control train`` wraps its envs in one).
    reads_timespans: ClassVar[bool] = True

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space, lr_schedule: Any, **kwargs: Any) -> None:
        self.ncp_options = _ncp_options(_pop_ncp(kwargs), _action_dim(action_space))
        use_timespan_extractor(observation_space, kwargs)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)  # type: ignore[arg-type]

    def make_actor(self, features_extractor: Any = None) -> NCPSACActor:
        actor_kwargs = self._update_features_extractor(self.actor_kwargs, features_extractor)
        return NCPSACActor(**actor_kwargs, ncp_options=self.ncp_options).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), **self.ncp_options}


class NCPTD3Actor(TD3Actor):
    """TD3 actor: stateless NCP, a linear map of its motor neurons, tanh."""

    def __init__(self, *args: Any, ncp_options: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ncp_options = ncp_options
        ncp = StatelessNCP(self.features_dim, **ncp_options)
        ncp.slot = slot_of(self.features_extractor)
        action_dim = int(np.prod(self.action_space.shape or (1,)))
        self.mu = nn.Sequential(ncp, nn.Linear(ncp.output_size, action_dim), nn.Tanh())

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "ncp_options": self.ncp_options}


class NCPTD3Policy(TD3Policy):
    """SB3 ``TD3`` policy with a stateless NCP actor (MLP critics); NCP options as
    :class:`NCPActorCriticPolicy`."""

    #: Reads each step's timespan from a TimespanObservation (``ncp-control train`` wraps its envs in one).
    reads_timespans: ClassVar[bool] = True

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space, lr_schedule: Any, **kwargs: Any) -> None:
        self.ncp_options = _ncp_options(_pop_ncp(kwargs), _action_dim(action_space))
        use_timespan_extractor(observation_space, kwargs)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)  # type: ignore[arg-type]
        target = self.actor_target.mu[0]
        assert isinstance(target, StatelessNCP)
        target.written_through_data = True  # TD3 follows the actor with polyak_update

    def make_actor(self, features_extractor: Any = None) -> NCPTD3Actor:
        actor_kwargs = self._update_features_extractor(self.actor_kwargs, features_extractor)
        return NCPTD3Actor(**actor_kwargs, ncp_options=self.ncp_options).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), **self.ncp_options}
