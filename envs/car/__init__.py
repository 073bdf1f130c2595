"""The lane-keeping car: a dynamic bicycle model on procedurally generated roads (numpy only)."""

from ncp_control.envs.car.controller import RANDOM_RETURN, REFERENCE_RETURN, LaneKeepingController, evaluate
from ncp_control.envs.car.lane_keeping import LaneKeepingEnv

__all__ = ["RANDOM_RETURN", "REFERENCE_RETURN", "LaneKeepingController", "LaneKeepingEnv", "evaluate"]
