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
    "RecurrentChunkSamples",
    "RecurrentSequencePolicy",
    "load_policy",
    "save_policy",
]
