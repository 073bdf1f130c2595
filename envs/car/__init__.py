"""The lane-keeping car: a dynamic bicycle model on procedurally generated roads (numpy only)."""

from envs.car.controller import RANDOM_RETURN, REFERENCE_RETURN, LaneKeepingController, evaluate
from envs.car.lane_keeping import LaneKeepingEnv

__all__ = ["RANDOM_RETURN", "REFERENCE_RETURN", "LaneKeepingController", "LaneKeepingEnv", "evaluate"]
