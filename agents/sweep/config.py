"""Sweep configuration: a grid of (env, policy, seed) training jobs with a shared evaluation.

YAML layout (every key but ``envs`` and ``policies`` optional)::

    envs: [NCPControl/LaneKeeping-v0]
    policies:                       # names, or entries with their own settings
      - CfCPolicy
      - {name: mlp, policy: MlpPolicy, algo: LiquidPPO, hyperparams: {n_steps: 64}}
    seeds: [0, 1, 2]
    timesteps: 50000                # training budget per job (alias: budget)
    n_envs: 4
    hyperparams: {n_steps: 128}     # shared algorithm arguments (per-policy ones win)
    env_kwargs: {}
    checkpoint_freq: 10000
    suites: [dynamics, timing]      # robustness suites evaluated after training
    levels: [0.25, 0.5, 1.0]        # optional override of the suites' levels
    episodes: 5                     # evaluation episodes per cell
    eval_seed: 0
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agents.runs import RunConfig
from ncp_control.errors import UserError

_KEYS = {"envs", "policies", "seeds", "timesteps", "budget", "n_envs", "hyperparams", "env_kwargs", "checkpoint_freq",
         "suites", "levels", "episodes", "eval_seed", "algo"}
_POLICY_KEYS = {"name", "policy", "algo", "hyperparams"}


@dataclass(frozen=True)
class Job:
    """One training + evaluation job of a sweep.

    :param job_id: unique name, also the run folder's name.
    :param model: the model's name in the results table (policy entry name).
    :param config: the training configuration.
    :param suites: robustness suites to evaluate after training.
    :param levels: level override (``None``: the suites' own).
    :param episodes: evaluation episodes per cell.
    :param eval_seed: first evaluation seed.
    """

    job_id: str
    model: str
    config: RunConfig
    suites: tuple[str, ...] = ()
    levels: tuple[float, ...] | None = None
    episodes: int = 5
    eval_seed: int = 0


@dataclass
class SweepConfig:
    """A parsed sweep file. :param jobs: the grid, in a stable order."""

    jobs: list[Job] = field(default_factory=list)
    envs: list[str] = field(default_factory=list)
    episodes: int = 5
    eval_seed: int = 0


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


def _as_list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, int, float, dict)):
        return [value]
    if isinstance(value, list):
        return value
    raise UserError(f"sweep key {name!r} must be a value or a list, got {type(value).__name__}")


def parse_sweep(data: dict[str, Any]) -> SweepConfig:
    """Expand a sweep mapping into jobs.

    :param data: the YAML content.
    :return: the sweep.
    :raises ValueError: for unknown keys or missing envs/policies.
    """
    if not isinstance(data, dict):
        raise UserError("a sweep file must hold a mapping")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise UserError(f"unknown sweep keys {unknown}; allowed: {sorted(_KEYS)}")
    envs = [str(e) for e in _as_list(data.get("envs"), "envs")]
    policies = _as_list(data.get("policies"), "policies")
    if not envs or not policies:
        raise UserError("a sweep needs at least one entry in 'envs' and in 'policies'")
    seeds = [int(s) for s in _as_list(data.get("seeds", [0]), "seeds")]
    if "budget" in data and "timesteps" in data:
        raise UserError("give the training budget as 'timesteps' or 'budget', not both")
    timesteps = int(float(data.get("timesteps", data.get("budget", 50_000))))
    levels = data.get("levels")
    shared = dict(data.get("hyperparams") or {})
    entries = []
    for entry in policies:
        spec = {"policy": entry} if isinstance(entry, str) else dict(entry)
        bad = sorted(set(spec) - _POLICY_KEYS)
        if bad or "policy" not in spec:
            raise UserError(f"policy entry {entry!r}: needs 'policy', allows {sorted(_POLICY_KEYS)}")
        spec.setdefault("name", spec["policy"])
        entries.append(spec)
    names = [e["name"] for e in entries]
    if len(set(names)) != len(names):
        raise UserError(f"policy names must be unique, got {names}")
    jobs = []
    for env_id, spec, seed in itertools.product(envs, entries, seeds):
        config = RunConfig(
            env_id=env_id,
            policy=str(spec["policy"]),
            algo=str(spec.get("algo", data.get("algo", "LiquidPPO"))),
            timesteps=timesteps,
            seed=seed,
            n_envs=int(data.get("n_envs", 1)),
            hyperparams={**shared, **dict(spec.get("hyperparams") or {})},
            env_kwargs=dict(data.get("env_kwargs") or {}),
            checkpoint_freq=int(data.get("checkpoint_freq", 10_000)),
            eval_freq=0,
        )
        config.validate()
        jobs.append(
            Job(
                job_id=f"{_slug(env_id)}__{_slug(spec['name'])}__seed{seed}",
                model=str(spec["name"]),
                config=config,
                suites=tuple(str(s) for s in _as_list(data.get("suites"), "suites")),
                levels=tuple(float(v) for v in levels) if levels is not None else None,
                episodes=int(data.get("episodes", 5)),
                eval_seed=int(data.get("eval_seed", 0)),
            )
        )
    return SweepConfig(jobs, envs, int(data.get("episodes", 5)), int(data.get("eval_seed", 0)))


def load_sweep(path: str | os.PathLike[str]) -> SweepConfig:
    """Read and expand a sweep YAML file.

    :param path: the file.
    :return: the sweep.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"sweep file {file} does not exist")
    try:
        data = yaml.safe_load(file.read_text())
    except yaml.YAMLError as error:
        raise UserError(f"{file} is not valid YAML: {error}") from None
    return parse_sweep(data)
