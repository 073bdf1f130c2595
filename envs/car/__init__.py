"""The lane-keeping car: a dynamic bicycle model on procedurally generated roads (numpy only)."""

from envs.car.lane_keeping import LaneKeepingEnv

__all__ = ["LaneKeepingEnv"]
