"""agents: liquid networks as Stable-Baselines3 policies, LiquidPPO and robustness evaluation."""

from agents.buffer import ChunkedRolloutBuffer, RecurrentChunkSamples
from agents.export import DeployedPolicy, load_policy, save_policy
from agents.policies import (
    CfCPolicy,
    CTRNNPolicy,
    GRUPolicy,
    LSTMPolicy,
    LTCPolicy,
    MlpPolicy,
    RecurrentSequencePolicy,
)
from agents.ppo import LiquidPPO
from agents.recurrent_ppo import RecurrentCfCPolicy, RecurrentCTRNNPolicy, RecurrentLTCPolicy
from agents.stateless import NCPActorCriticPolicy, NCPSACPolicy, NCPTD3Policy

__all__ = [
    "CTRNNPolicy",
    "CfCPolicy",
    "ChunkedRolloutBuffer",
    "DeployedPolicy",
    "GRUPolicy",
    "LSTMPolicy",
    "LTCPolicy",
    "LiquidPPO",
    "MlpPolicy",
    "NCPActorCriticPolicy",
    "NCPSACPolicy",
    "NCPTD3Policy",
    "RecurrentCTRNNPolicy",
    "RecurrentCfCPolicy",
    "RecurrentLTCPolicy",
    "RecurrentChunkSamples",
    "RecurrentSequencePolicy",
    "load_policy",
    "save_policy",
]
