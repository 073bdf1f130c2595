"""Callbacks of a training run: atomic weights-only checkpoints and the periodic clean evaluation log.

Used by :func:`ncp_control.agents.runs.train.train_run`; the names are importable from :mod:`ncp_control.agents.runs`.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import numpy as np
from ncp_control.agents.common.env_util import make_env
from ncp_control.agents.common.eval_policies import ModelPolicy
from ncp_control.agents.common.evaluation import run_episodes
from ncp_control.agents.common.files import atomic_write_bytes
from ncp_control.agents.runs.models import save_model_state
from ncp_control.agents.streams import try_capture
from stable_baselines3.common.callbacks import BaseCallback

if TYPE_CHECKING:
    from ncp_control.agents.runs.config import RunConfig
    from ncp_control.agents.runs.folder import RunFolder


class CheckpointCallback(BaseCallback):
    """Atomic weights-only checkpoints (``checkpoints/step_<N>/``, see
    :func:`ncp_control.agents.runs.models.save_model_state`; an off-policy replay buffer included) at the first
    rollout boundary at or after every ``freq`` steps, with the run's random streams and
    rollout position (:mod:`ncp_control.agents.streams`), so that a run resumed from one goes on exactly as
    the uninterrupted run; keeps the newest ``keep``.

    :param folder: the run folder.
    :param config: the run's configuration (stored in each checkpoint).
    :param freq: steps between checkpoints.
    :param keep: checkpoints kept.
    """

    def __init__(self, folder: RunFolder, config: RunConfig, freq: int, keep: int = 2):
        super().__init__()
        self.folder, self.config, self.freq, self.keep = folder, config, freq, keep
        self._last = 0

    def _on_training_start(self) -> None:
        self._last = self.num_timesteps

    def _on_rollout_start(self) -> None:
        # between two rollouts (the previous one trained on), nothing half-collected to store
        self._checkpoint_if_due()

    def _on_training_end(self) -> None:
        self._checkpoint_if_due()

    def _checkpoint_if_due(self) -> None:
        if self.num_timesteps // self.freq > self._last // self.freq:
            self._last = self.num_timesteps
            save_model_state(self.model, self.folder.checkpoints / f"step_{self.num_timesteps:012d}", self.config,
                             replay_buffer=True, streams=try_capture(self.model))
            for old in self.folder.checkpoint_paths()[: -self.keep]:
                shutil.rmtree(old, ignore_errors=True)

    def _on_step(self) -> bool:
        return True


class ProgressCallback(BaseCallback):
    """Writes the training's progress (steps done of the run's total) to the run folder's
    ``progress.json`` after every rollout, for a sweep's per-job progress.

    :param folder: the run folder.
    :param total: the run's training steps.
    """

    def __init__(self, folder: RunFolder, total: int):
        super().__init__()
        self.folder, self.total = folder, total

    def _on_rollout_end(self) -> None:
        self.folder.write_progress("training", self.num_timesteps, self.total, "steps")

    def _on_step(self) -> bool:
        return True


class EvalLogCallback(BaseCallback):
    """Clean deterministic evaluation every ``freq`` steps, appended to ``eval.csv`` and logged to
    TensorBoard (``eval/mean_return``, ``eval/success_rate``, ``eval/crash_rate`` where the env
    reports them); the model of the best mean return so far is kept in ``best_model/``.

    :param folder: the run folder.
    :param config: the run's configuration (env and episodes).
    """

    def __init__(self, folder: RunFolder, config: RunConfig):
        super().__init__()
        self.folder, self.config = folder, config
        self._last = 0

    def _logged(self) -> int:
        if not self.folder.eval_log.exists():
            return 0
        lines = self.folder.eval_log.read_text().splitlines()[1:]
        return int(lines[-1].split(",")[0]) if lines else 0

    def _on_training_start(self) -> None:
        # after a resume, an evaluation due at the checkpoint's step may not have been logged yet
        self._last = self._logged()
        if self.num_timesteps // self.config.eval_freq > self._last // self.config.eval_freq:
            self._last = self.num_timesteps
            self.evaluate()

    def _on_step(self) -> bool:
        if self.num_timesteps // self.config.eval_freq > self._last // self.config.eval_freq:
            self._last = self.num_timesteps
            self.evaluate()
        return True

    def evaluate(self) -> None:
        """Run the evaluation now and append one row."""
        seeds = [10_000 + i for i in range(self.config.eval_episodes)]
        rows = run_episodes(
            ModelPolicy(self.model), lambda: make_env(self.config.env_id, self.config.env_kwargs), seeds
        )
        returns = np.array([r["return"] for r in rows])
        rates = {key: float(np.nanmean([r[key] for r in rows])) if any(not np.isnan(r[key]) for r in rows) else None
                 for key in ("success", "crash")}
        line = (f"{self.num_timesteps},{returns.mean():.6g},{returns.std():.6g},"
                + ",".join("" if rate is None else f"{rate:.6g}" for rate in rates.values()) + "\n")
        best = self.best_return()
        old = self.folder.eval_log.read_bytes() if self.folder.eval_log.exists() else b""
        header = b"" if old else b"timesteps,mean_return,std_return,success_rate,crash_rate\n"
        atomic_write_bytes(self.folder.eval_log, old + header + line.encode())
        if best is None or returns.mean() > best:  # the best model so far, kept beside the last one
            save_model_state(self.model, self.folder.best_model, self.config)
        if self.logger is not None:
            self.logger.record("eval/mean_return", float(returns.mean()))
            for key, rate in rates.items():
                if rate is not None:
                    self.logger.record(f"eval/{key}_rate", rate)

    def best_return(self) -> float | None:
        """:return: the best mean return in ``eval.csv`` so far (None before the first evaluation)."""
        if not self.folder.eval_log.exists():
            return None
        values = [float(line.split(",")[1]) for line in self.folder.eval_log.read_text().splitlines()[1:] if line]
        return max(values) if values else None


def truncate_eval_log(folder: RunFolder, timesteps: int) -> None:
    """Drop evaluation rows newer than a checkpoint being resumed from (they will be redone)."""
    if not folder.eval_log.exists():
        return
    lines = folder.eval_log.read_text().splitlines(keepends=True)
    kept = lines[:1] + [line for line in lines[1:] if int(line.split(",")[0]) <= timesteps]
    atomic_write_bytes(folder.eval_log, "".join(kept).encode())
