"""Checkpoints inside one run of the learning benchmark, so that a run stopped part-way (a
killed process, a machine that goes away) goes on from where it was.

A run's results line is written only when it finishes (:mod:`ncp_control.agents.benchmark`); a
long run (HalfCheetah for a million steps takes hours on one core) also writes a checkpoint
every so many steps: the model weights-only with its optimiser, normaliser and replay buffer,
its random streams and rollout position (:mod:`ncp_control.agents.streams`), and the progress
of the benchmark's own bookkeeping (the learning curve so far, the training seconds spent, the
next evaluation). A rerun of the same command finds it, rebuilds the model and trains the
remaining steps, as the uninterrupted run would have (same weights at the end). One checkpoint
per run is kept (replaced atomically); it is deleted once the run's results line is written.

Example::

    ncp-control bench learning --env HalfCheetah-v5 --agents LiquidSAC:CfCPolicy \\
        --checkpoint-every 25000 --results cheetah.jsonl
    # stopped after 130k steps: the same command goes on from step 125k
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ncp_control.errors import UserError

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm


@dataclass
class RunProgress:
    """The benchmark's bookkeeping of one run, stored with its checkpoint.

    :param curve: the evaluations so far, ``[[steps, training seconds, return], ...]``.
    :param train_seconds: training time so far (evaluations and checkpoints not counted).
    :param next_eval: the step count of the next evaluation.
    """

    curve: list[list[float]] = field(default_factory=list)
    train_seconds: float = 0.0
    next_eval: int = 0


def checkpoint_folder(root: str | os.PathLike[str], key: dict[str, Any]) -> Path:
    """:param root: the folder of a benchmark's checkpoints.
    :param key: the run's :class:`~ncp_control.agents.benchmark.RunKey` as a dict (``as_dict()``).
    :return: the run's own checkpoint folder (its name spells the key)."""
    fields = [key["env_id"], key["agent"], key["normalize"], f"seed{key['seed']}", f"{key['steps']}steps",
              key["implementation"]]
    return Path(root) / re.sub(r"[^A-Za-z0-9_.-]+", "_", "__".join(map(str, fields)))


class RunCheckpoints:
    """The checkpoints of one run.

    :param root: the folder of the benchmark's checkpoints (None: no checkpoints).
    :param key: the run's :class:`~ncp_control.agents.benchmark.RunKey` as a dict (``as_dict()``).
    :param every: env steps between checkpoints (0: none); one is written at the first
        rollout boundary at or after each multiple.
    """

    def __init__(self, root: str | os.PathLike[str] | None, key: dict[str, Any], every: int) -> None:
        if every < 0:
            raise UserError(f"--checkpoint-every must be >= 0 (0: no checkpoints), got {every}")
        self.key, self.every = key, every if root is not None else 0
        self.path = None if root is None else checkpoint_folder(root, key)
        self._last = 0

    def resume(self, model: BaseAlgorithm) -> RunProgress | None:
        """Load the run's checkpoint into a freshly built ``model``, if there is one.

        :param model: the run's model as :func:`ncp_control.agents.benchmark.build_agent` built it.
        :return: the stored progress, or None when the run starts from the beginning.
        :raises UserError: if the checkpoint belongs to another run or version.
        """
        from ncp_control.agents.model_state import (
            is_state_folder,
            read_state_meta,
            read_streams,
            restore_state,
        )
        from ncp_control.agents.streams import restore as restore_streams

        if self.path is None or not is_state_folder(self.path):
            return None
        hint = f"delete {self.path} to train this run from the beginning"
        try:
            meta = read_state_meta(self.path)["meta"]
        except UserError as error:
            raise UserError(f"{error}; {hint}") from None
        if meta.get("key") != self.key:
            raise UserError(f"{self.path} is the checkpoint of {meta.get('key')}, not of {self.key}; {hint}")
        restore_state(model, self.path)
        streams = read_streams(self.path)
        if streams is not None:
            restore_streams(model, streams)
        self._last = model.num_timesteps
        return RunProgress(**meta["progress"])

    def due(self, num_timesteps: int) -> bool:
        """:return: whether a checkpoint is due at ``num_timesteps``."""
        return self.every > 0 and num_timesteps // self.every > self._last // self.every

    def save(self, model: BaseAlgorithm, progress: RunProgress) -> None:
        """Write the checkpoint (replacing the previous one atomically).

        :param model: the model, between two rollouts.
        :param progress: the benchmark's bookkeeping at this point.
        """
        from ncp_control.agents.model_state import save_state
        from ncp_control.agents.streams import try_capture

        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        meta: dict[str, Any] = {"key": dict(self.key), "progress": asdict(progress)}
        save_state(model, self.path, meta, replay_buffer=True, streams=try_capture(model))
        self._last = model.num_timesteps

    def clear(self) -> None:
        """Delete the checkpoint (the run's results line is written)."""
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
