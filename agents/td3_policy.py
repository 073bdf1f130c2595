"""Recurrent deterministic actor, its target, and recurrent critics for :class:`ncp_control.agents.LiquidTD3`.

The networks are LiquidSAC's (:mod:`ncp_control.agents.sac_policy`: the same options, NCP
wiring with motor neurons by default for the liquid actors), with a deterministic actor (the
squashed mean, no log-std layer), a target copy of the actor, and SB3's TD3 layer sizes
(``[400, 300]``) for the Q heads and the MLP actor. Exploration is the algorithm's
``action_noise``; the policy itself always acts deterministically.
"""

from __future__ import annotations

from typing import Any

import torch as th
from ncp_control.agents.sac_policy import RecurrentSACPolicy
from stable_baselines3.common.policies import BasePolicy

#: Hidden layers of each Q head and of the MLP actor (SB3's TD3).
TD3_NET_ARCH = (400, 300)


class RecurrentTD3Policy(RecurrentSACPolicy):
    """Recurrent deterministic actor with a target copy, and recurrent critics (see
    :class:`~ncp_control.agents.sac_policy.RecurrentSACPolicy` for the arguments)."""

    stochastic = False
    default_net_arch = TD3_NET_ARCH

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor_target = self._make_actor(int(self.action_space.shape[0]))  # type: ignore[index]
        self.actor_target.load_state_dict(self.actor.state_dict())
        self.actor_target.requires_grad_(False)
        self.actor_target.train(False)

    @th.no_grad()
    def act(self, obs: th.Tensor, state: th.Tensor, episode_starts: th.Tensor, timespans: th.Tensor | None,
            deterministic: bool) -> tuple[th.Tensor, th.Tensor]:
        """The deterministic actor's step, whatever ``deterministic`` says (TD3's exploration is
        the algorithm's action noise); see :meth:`RecurrentSACPolicy.act`."""
        return super().act(obs, state, episode_starts, timespans, deterministic=True)


class CfCTD3Policy(RecurrentTD3Policy):
    """Closed-form continuous-time actor (NCP wiring) and critic."""

    network = "cfc"


class LTCTD3Policy(RecurrentTD3Policy):
    """Liquid time-constant actor (NCP wiring) and critic."""

    network = "ltc"


class CTRNNTD3Policy(RecurrentTD3Policy):
    """Continuous-time RNN actor (NCP wiring) and critic."""

    network = "ctrnn"


class LSTMTD3Policy(RecurrentTD3Policy):
    """LSTM actor and critic (64 hidden units by default)."""

    network = "lstm"


class GRUTD3Policy(RecurrentTD3Policy):
    """GRU actor and critic (64 hidden units by default)."""

    network = "gru"


class MlpTD3Policy(RecurrentTD3Policy):
    """SB3's TD3 networks (no memory)."""

    network = "mlp"


#: Policy aliases of :class:`ncp_control.agents.LiquidTD3`.
TD3_POLICY_ALIASES: dict[str, type[BasePolicy]] = {
    "CfCPolicy": CfCTD3Policy,
    "LTCPolicy": LTCTD3Policy,
    "CTRNNPolicy": CTRNNTD3Policy,
    "LSTMPolicy": LSTMTD3Policy,
    "GRUPolicy": GRUTD3Policy,
    "MlpPolicy": MlpTD3Policy,
}
