"""Experiment sweeps: a grid from YAML, run locally (process pool) or on Ray, resumable."""

from agents.sweep.backends import BACKENDS, make_backend
from agents.sweep.config import Job, SweepConfig, load_sweep, parse_sweep
from agents.sweep.jobs import run_job
from agents.sweep.runner import SweepReport, run_sweep

__all__ = ["BACKENDS", "Job", "SweepConfig", "SweepReport", "load_sweep", "make_backend", "parse_sweep", "run_job",
           "run_sweep"]
