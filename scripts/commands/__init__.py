"""Subcommands of ``ncp-control``.

Each module in this package defines ``register(subparsers)``, which adds one or more
subcommands with ``set_defaults(func=...)``; ``ncp_control.cli.cli`` discovers them.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from ncp_control.errors import UserError

#: help of ``--trust-pickle``, the same for every command that can open pickled files
TRUST_PICKLE_HELP = (
    "also open pickled files: SB3 .zip models (and runs of earlier versions that only have them), "
    "VecNormalize .pkl files. Unpickling can run arbitrary code: use it only for files you made or trust. "
    "Without it only weights-only files (safetensors + JSON) are read"
)


def add_trust_pickle(parser: argparse.ArgumentParser) -> None:
    """Add ``--trust-pickle`` to a subcommand.

    :param parser: the subcommand's parser.
    """
    parser.add_argument("--trust-pickle", action="store_true", help=TRUST_PICKLE_HELP)


def model_names(infos: list[dict[str, Any]]) -> list[str]:
    """Names of loaded runs: the policy (prefixed by a non-default algorithm); the folder names
    where two runs would share one (several seeds of one policy).

    :param infos: what :func:`ncp_control.agents.runs.load_model` says of each run.
    :return: one name per run.
    """
    names = [info["policy"] if info["algo"] == "LiquidPPO" else f"{info['algo']}-{info['policy']}" for info in infos]
    keys = Counter(zip(names, [info.get("seed", 0) for info in infos]))
    if any(count > 1 for count in keys.values()):
        return [Path(info["path"]).name for info in infos]
    return names


def load_runs(paths: list[str], env_id: str | None, trust_pickle: bool) -> tuple[list[tuple[Any, dict[str, Any]]], str]:
    """Load several runs that must share one environment.

    :param paths: run folders (or model files).
    :param env_id: ``--env`` (None: the runs').
    :param trust_pickle: open pickled SB3 zips.
    :return: ``[(model, info)]`` (``info["seed"]`` an int) and the environment id.
    :raises UserError: for a bare model file without ``--env``, or runs of different environments.
    """
    from ncp_control.agents.runs import load_model

    loaded = []
    for path in paths:
        model, info = load_model(path, env_id, trust_pickle=trust_pickle)
        loaded.append((model, {**info, "seed": int(info.get("seed", 0))}))
    envs = {info["env_id"] for _, info in loaded}
    if None in envs:
        raise UserError("a bare model file needs --env")
    if len(envs) != 1:
        raise UserError(f"all runs must be for one environment, got {sorted(envs)}")
    return loaded, envs.pop()
