"""Sweep configuration: a grid of (env, policy, seed) training jobs with a shared evaluation.

YAML layout (every key but ``envs`` and ``policies`` optional)::

    envs: [NCPControl/LaneKeeping-v0]
    policies:                       # names, or entries with their own settings
      - CfCPolicy
      - {name: mlp, policy: MlpPolicy, algo: LiquidPPO, hyperparams: {n_steps: 64}}
    seeds: [0, 1, 2]
    timesteps: 50000                # training budget per job (alias: budget)
    n_envs: 4
    hyperparams: {n_steps: 128}     # shared algorithm arguments (per-policy ones win); each job
                                    # gets those its algorithm takes (seq_len: LiquidPPO only)
    env_kwargs: {}
    checkpoint_freq: 10000
    suites: [dynamics, timing]      # robustness suites evaluated after training
    levels: [0.25, 0.5, 1.0]        # optional override of the suites' levels
    episodes: 5                     # evaluation episodes per cell
    eval_seed: 0
    train_shift: [timing:0.5]       # training under shift for every job (a policy entry's own wins)
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ncp_control.agents.runs import RunConfig, algorithm_parameters, algorithms
from ncp_control.agents.runs.config import policy_of

from ncp_control.errors import UserError

_KEYS = {"envs", "policies", "seeds", "timesteps", "budget", "n_envs", "hyperparams", "env_kwargs", "checkpoint_freq",
         "suites", "levels", "episodes", "eval_seed", "algo", "train_shift"}
_POLICY_KEYS = {"name", "policy", "algo", "hyperparams", "train_shift"}


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


def _int(value: Any, name: str) -> int:
    """A whole number given as an int or a float such as ``1e5``; anything else is refused naming the key."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UserError(f"sweep key {name!r} must be a whole number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise UserError(f"sweep key {name!r} must be a whole number, got {value!r}") from None
    if number != int(number):
        raise UserError(f"sweep key {name!r} must be a whole number, got {value!r}")
    return int(number)


def _float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"sweep key {name!r} must hold numbers, got {value!r}")
    return float(value)


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
    envs = _as_list(data.get("envs"), "envs")
    if not all(isinstance(e, str) for e in envs):
        raise UserError(f"sweep key 'envs' must list env ids, got {envs!r}")
    policies = _as_list(data.get("policies"), "policies")
    if not envs or not policies:
        raise UserError("a sweep needs at least one entry in 'envs' and in 'policies'")
    seeds = [_int(s, "seeds") for s in _as_list(data.get("seeds", [0]), "seeds")]
    if "budget" in data and "timesteps" in data:
        raise UserError("give the training budget as 'timesteps' or 'budget', not both")
    timesteps = _int(data.get("timesteps", data.get("budget", 50_000)), "timesteps")
    levels = data.get("levels")
    shared = data.get("hyperparams") or {}
    if not isinstance(shared, dict):
        raise UserError(f"sweep key 'hyperparams' must be a mapping of algorithm arguments, got {shared!r}")
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
    algos = {str(spec.get("algo", data.get("algo", "LiquidPPO"))) for spec in entries}
    unknown_algos = sorted(a for a in algos if a not in algorithms())
    if unknown_algos:
        raise UserError(f"unknown algorithm {unknown_algos[0]!r}; choose one of {sorted(algorithms())}")
    unused = sorted(set(shared) - set().union(*(algorithm_parameters(a) for a in algos)))
    if unused:
        raise UserError(f"shared hyperparams {unused} are arguments of none of the sweep's algorithms "
                        f"{sorted(algos)}; remove them")
    jobs = []
    for env_id, spec, seed in itertools.product(envs, entries, seeds):
        algo = str(spec.get("algo", data.get("algo", "LiquidPPO")))
        own = spec.get("hyperparams") or {}
        if not isinstance(own, dict):
            raise UserError(f"policy entry {spec['name']!r}: hyperparams must be a mapping, got {own!r}")
        routed = {k: v for k, v in shared.items() if k in algorithm_parameters(algo)}  # what this algorithm takes
        config = RunConfig(
            env_id=env_id,
            policy=str(spec["policy"]),
            algo=algo,
            timesteps=timesteps,
            seed=seed,
            n_envs=_int(data.get("n_envs", 1), "n_envs"),
            hyperparams={**routed, **own},
            env_kwargs=dict(data.get("env_kwargs") or {}),
            checkpoint_freq=_int(data.get("checkpoint_freq", 10_000), "checkpoint_freq"),
            eval_freq=0,
            train_shift=list(_as_list(spec.get("train_shift", data.get("train_shift")), "train_shift")),
        )
        if algo in algorithms():  # an unknown algorithm is validate()'s to report
            try:
                policy_of(algo, config.policy)
            except UserError as error:
                raise UserError(f"policy entry {spec['name']!r}: {error}") from None
        config.validate()
        jobs.append(
            Job(
                job_id=f"{_slug(env_id)}__{_slug(spec['name'])}__seed{seed}",
                model=str(spec["name"]),
                config=config,
                suites=tuple(str(s) for s in _as_list(data.get("suites"), "suites")),
                levels=tuple(_float(v, "levels") for v in _as_list(levels, "levels")) if levels is not None else None,
                episodes=_int(data.get("episodes", 5), "episodes"),
                eval_seed=_int(data.get("eval_seed", 0), "eval_seed"),
            )
        )
    return SweepConfig(jobs, envs, _int(data.get("episodes", 5), "episodes"), _int(data.get("eval_seed", 0), "eval_seed"))


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
