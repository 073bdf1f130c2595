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
from agents.robustness import evaluate_random, evaluate_robustness, evaluate_robustness_sweep
from agents.runs import RunConfig, load_model, train_run
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
    "RunConfig",
    "evaluate_random",
    "evaluate_robustness",
    "evaluate_robustness_sweep",
    "load_model",
    "train_run",
]
