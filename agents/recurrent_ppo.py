"""Liquid cells inside ``sb3_contrib.RecurrentPPO``, unchanged: ``RecurrentPPO(RecurrentCfCPolicy, env)``.

sb3-contrib's recurrent policy talks to an ``nn.LSTM`` (sequence-first input, an ``(h, c)``
state of shape ``[layers, batch, hidden]``). :class:`LSTMShaped` presents a liquid model
that way: ``h`` carries the liquid state (``hidden_size = state_size``) and ``c`` is carried
along unused. The policy also replaces sb3-contrib's per-step reset loop by one call of the
liquid model with its reset mask (same outputs, one unroll). The liquid networks see the
env's elapsed time when the env is wrapped in
:class:`~ncp_control.agents.timespan_obs.TimespanObservation` (the observation then carries
each step's timespan); without it every step lasts 1.0.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch as th
from gymnasium import spaces
from ncp_control.agents.policies import action_outputs
from ncp_control.agents.sequence import LIQUID_NETWORKS, make_liquid, size_of
from ncp_control.agents.timespan_obs import TimeSlot, slot_of, use_timespan_extractor
from ncp_control.agents.wiring import build_wiring
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from stable_baselines3.common.torch_layers import CombinedExtractor, FlattenExtractor, MlpExtractor
from stable_baselines3.common.type_aliases import Schedule
from torch import nn

from ncp_control.errors import UserError


class LSTMShaped(nn.Module):
    """A liquid sequence model with the call signature of a one-layer ``nn.LSTM``.

    :param model: a model of :mod:`ncp_control` (``forward(x, hx, timespans, resets)``).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.input_size = size_of(model, "input_size")
        self.hidden_size = size_of(model, "state_size")
        self.output_size = size_of(model, "output_size")
        self.num_layers = 1
        #: Where the timespans of the current forward pass are (a TimespanExtractor's), or None.
        self.slot: TimeSlot | None = None

    def forward(self, x: th.Tensor, state: tuple[th.Tensor, th.Tensor]) -> tuple[th.Tensor, tuple[th.Tensor, th.Tensor]]:
        """:param x: ``[T, B, F]``. :param state: ``(h [1, B, S], c [1, B, S])``.
        :return: ``y [T, B, M]`` and ``(h', c)``."""
        y, h = self.model(x.transpose(0, 1), state[0][0])
        return y.transpose(0, 1), (h.unsqueeze(0), state[1])


class _TwoHeadExtractor(nn.Module):
    """MLP heads on actor and critic latents of different sizes (the MlpExtractor interface)."""

    def __init__(self, pi: MlpExtractor, vf: MlpExtractor) -> None:
        super().__init__()
        self.pi, self.vf = pi, vf
        self.latent_dim_pi, self.latent_dim_vf = pi.latent_dim_pi, vf.latent_dim_vf

    def forward(self, features: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, latent: th.Tensor) -> th.Tensor:
        return self.pi.forward_actor(latent)

    def forward_critic(self, latent: th.Tensor) -> th.Tensor:
        return self.vf.forward_critic(latent)


class RecurrentLiquidPolicy(RecurrentActorCriticPolicy):
    """sb3-contrib recurrent actor-critic policy whose LSTMs are liquid networks.

    Takes every argument of ``RecurrentActorCriticPolicy`` except the LSTM sizes (Dict
    observations go through SB3's ``CombinedExtractor`` unless another is given), plus:

    :param units: neurons of the liquid network.
    :param wiring: ``None`` or ``"ncp"`` (AutoNCP, one motor neuron per action output; default),
        ``"full"``, ``"none"`` (unwired) or an ``ncp_control.Wiring``, as
        :func:`~ncp_control.agents.wiring.build_wiring` reads it. The critic network is unwired
        with ``units``.
    :param sparsity_level: AutoNCP sparsity.
    :param wiring_seed: seed of the generated wiring.
    :param cell_kwargs: options of the liquid cell (``implementation`` defaults to ``"fast"``).
    """

    #: Reads each step's timespan from a TimespanObservation (``ncp-control train`` wraps its envs in one).
    reads_timespans: ClassVar[bool] = True

    network = "cfc"

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        units: int = 32,
        wiring: Any = "ncp",
        sparsity_level: float = 0.5,
        wiring_seed: int = 22222,
        cell_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if self.network not in LIQUID_NETWORKS:
            raise UserError(f"network must be one of {LIQUID_NETWORKS}, got {self.network!r}")
        for key in ("lstm_hidden_size", "n_lstm_layers", "lstm_kwargs"):
            if key in kwargs:
                raise UserError(f"{key} is an LSTM option; the liquid network is set by units, wiring and cell_kwargs")
        use_timespan_extractor(observation_space, kwargs)
        if isinstance(observation_space, spaces.Dict):  # sb3-contrib's MultiInput policy does the same
            kwargs.setdefault("features_extractor_class", CombinedExtractor)
        extractor = kwargs.get("features_extractor_class", FlattenExtractor)
        features_dim = extractor(observation_space, **(kwargs.get("features_extractor_kwargs") or {})).features_dim
        self.units, self.wiring, self.sparsity_level, self.wiring_seed = units, wiring, sparsity_level, wiring_seed
        self.cell_kwargs = dict(cell_kwargs or {})
        self.cell_kwargs.setdefault("implementation", "fast")
        built = build_wiring(wiring, units, action_outputs(action_space), features_dim, sparsity_level, wiring_seed)
        actor = LSTMShaped(make_liquid(self.network, features_dim, units if built is None else built, self.cell_kwargs))
        critic = LSTMShaped(make_liquid(self.network, features_dim, units, self.cell_kwargs))
        if actor.hidden_size != critic.hidden_size:
            raise UserError(f"actor and critic states differ ({actor.hidden_size} vs {critic.hidden_size}); use units")
        shared = bool(kwargs.get("shared_lstm", False))
        self._latent_sizes = (actor.output_size, actor.output_size if shared else critic.output_size)
        super().__init__(observation_space, action_space, lr_schedule, lstm_hidden_size=actor.hidden_size, **kwargs)
        actor.slot = slot_of(self.pi_features_extractor)
        critic.slot = slot_of(self.vf_features_extractor)
        self.lstm_actor = actor  # type: ignore[assignment]
        self.lstm_critic = critic if self.enable_critic_lstm else None  # type: ignore[assignment]
        if not (self.shared_lstm or self.enable_critic_lstm):
            self.critic = nn.Linear(self.features_dim, critic.output_size)
        self.lstm_hidden_state_shape = (1, 1, actor.hidden_size)
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]

    def _build_mlp_extractor(self) -> None:
        pi_dim, vf_dim = self._latent_sizes
        self.mlp_extractor = _TwoHeadExtractor(  # type: ignore[assignment]
            MlpExtractor(pi_dim, net_arch=self.net_arch, activation_fn=self.activation_fn, device=self.device),
            MlpExtractor(vf_dim, net_arch=self.net_arch, activation_fn=self.activation_fn, device=self.device),
        )

    @staticmethod
    def _process_sequence(  # type: ignore[override]
        features: th.Tensor, lstm_states: tuple[th.Tensor, th.Tensor], episode_starts: th.Tensor, lstm: Any
    ) -> tuple[th.Tensor, tuple[th.Tensor, th.Tensor]]:
        """One unroll of the liquid model over ``[n_seq, T]`` with episode starts as resets.

        :param features: ``[n_seq * T, F]`` batch-major.
        :param lstm_states: ``(h [1, n_seq, S], c)``.
        :param episode_starts: ``[n_seq * T]``.
        :param lstm: the :class:`LSTMShaped` model.
        :return: outputs ``[n_seq * T, M]`` and the new ``(h, c)``.
        """
        n_seq = lstm_states[0].shape[1]
        x = features.reshape(n_seq, -1, lstm.input_size)
        resets = episode_starts.reshape(n_seq, -1).bool()
        timespans = None if lstm.slot is None or lstm.slot.timespans is None else lstm.slot.timespans.reshape(n_seq, -1)
        y, h = lstm.model(x, lstm_states[0][0], timespans, resets)
        return th.flatten(y, 0, 1), (h.unsqueeze(0), lstm_states[1])

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            units=self.units,
            wiring=self.wiring,
            sparsity_level=self.sparsity_level,
            wiring_seed=self.wiring_seed,
            cell_kwargs=self.cell_kwargs,
            shared_lstm=self.shared_lstm,
            enable_critic_lstm=self.enable_critic_lstm,
        )
        return data


class RecurrentCfCPolicy(RecurrentLiquidPolicy):
    """CfC (NCP wiring by default) inside ``sb3_contrib.RecurrentPPO``."""

    network = "cfc"


class RecurrentLTCPolicy(RecurrentLiquidPolicy):
    """LTC (NCP wiring by default) inside ``sb3_contrib.RecurrentPPO``."""

    network = "ltc"


class RecurrentCTRNNPolicy(RecurrentLiquidPolicy):
    """CT-RNN (NCP wiring by default) inside ``sb3_contrib.RecurrentPPO``."""

    network = "ctrnn"
