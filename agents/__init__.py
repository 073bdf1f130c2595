"""ncp_control.agents: liquid networks as Stable-Baselines3 policies, LiquidPPO, LiquidSAC, LiquidTD3 and robustness evaluation."""

if __name__ != "ncp_control.agents":  # the folder is installed as ncp_control.agents; a second name would load it twice
    raise ImportError(f"import this package as ncp_control.agents, not as {__name__}")

from ncp_control.agents.buffer import ChunkedRolloutBuffer, RecurrentChunkSamples
from ncp_control.agents.export import DeployedPolicy, load_policy, save_policy
from ncp_control.agents.policies import (
    CfCPolicy,
    CTRNNPolicy,
    GRUPolicy,
    LSTMPolicy,
    LTCPolicy,
    MlpPolicy,
    RecurrentSequencePolicy,
)
from ncp_control.agents.ppo import LiquidPPO
from ncp_control.agents.recurrent_ppo import RecurrentCfCPolicy, RecurrentCTRNNPolicy, RecurrentLTCPolicy
from ncp_control.agents.robustness import evaluate_random, evaluate_robustness, evaluate_robustness_sweep
from ncp_control.agents.runs import RunConfig, load_model, train_run
from ncp_control.agents.sac import LiquidSAC
from ncp_control.agents.sequence_replay import SequenceReplayBuffer, SequenceSamples
from ncp_control.agents.stateless import NCPActorCriticPolicy, NCPSACPolicy, NCPTD3Policy
from ncp_control.agents.td3 import LiquidTD3

__all__ = [
    "CTRNNPolicy",
    "CfCPolicy",
    "ChunkedRolloutBuffer",
    "DeployedPolicy",
    "GRUPolicy",
    "LSTMPolicy",
    "LTCPolicy",
    "LiquidPPO",
    "LiquidSAC",
    "LiquidTD3",
    "MlpPolicy",
    "NCPActorCriticPolicy",
    "NCPSACPolicy",
    "NCPTD3Policy",
    "RecurrentCTRNNPolicy",
    "RecurrentCfCPolicy",
    "RecurrentLTCPolicy",
    "RecurrentChunkSamples",
    "RecurrentSequencePolicy",
    "SequenceReplayBuffer",
    "SequenceSamples",
    "load_policy",
    "save_policy",
    "RunConfig",
    "evaluate_random",
    "evaluate_robustness",
    "evaluate_robustness_sweep",
    "load_model",
    "train_run",
]
