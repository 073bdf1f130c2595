"""Experiment sweeps: a grid from YAML, run locally (process pool) or on Ray, resumable."""

from ncp_control.agents.sweep.backends import BACKENDS, make_backend
from ncp_control.agents.sweep.config import Job, SweepConfig, load_sweep, parse_sweep
from ncp_control.agents.sweep.jobs import run_job
from ncp_control.agents.sweep.runner import SweepReport, run_sweep

__all__ = ["BACKENDS", "Job", "SweepConfig", "SweepReport", "load_sweep", "make_backend", "parse_sweep", "run_job",
           "run_sweep"]
