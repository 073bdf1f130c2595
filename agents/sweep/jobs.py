"""One sweep job, as a worker process (or Ray task) runs it: train, then evaluate robustness."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from ncp_control.agents.sweep.config import Job


def run_folder(root: str | os.PathLike[str], job: Job) -> Path:
    """:return: the run folder of ``job`` under the sweep's output folder."""
    return Path(root) / "runs" / job.job_id


def results_file(root: str | os.PathLike[str], job: Job) -> Path:
    """:return: the robustness results table of ``job``."""
    return run_folder(root, job) / "robustness.csv"


def _exit_with_parent(parent: int) -> None:
    """End this worker when the process that started it is gone (e.g. the sweep was killed)."""

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def run_job(job: Job, root: str, parent_pid: int | None = None) -> str:
    """Train ``job`` into its run folder (resuming if interrupted) and evaluate its suites.

    Both steps skip work already on disk, so running a job again after a kill finishes it
    without redoing finished cells.

    :param job: the job.
    :param root: the sweep's output folder.
    :param parent_pid: when given, the worker exits if that process dies.
    :return: the job id.
    """
    if parent_pid is not None:
        _exit_with_parent(parent_pid)
    import torch

    torch.set_num_threads(1)
    from ncp_control.agents.robustness.evaluate import evaluate_robustness
    from ncp_control.agents.runs import train_run
    from ncp_control.agents.runs.folder import RunFolder

    model = train_run(job.config, run_folder(root, job))
    folder = RunFolder(run_folder(root, job))
    for index, suite in enumerate(job.suites):
        folder.write_progress(f"evaluating {suite if isinstance(suite, str) else suite.name}", index,
                              len(job.suites), "suites")
        evaluate_robustness(
            model, job.config.env_id, suite, job.levels, job.episodes, job.eval_seed, name=job.model,
            train_seed=job.config.seed, results=results_file(root, job), env_kwargs=job.config.env_kwargs,
        )
    if job.suites:
        folder.write_progress("evaluated", len(job.suites), len(job.suites), "suites")
    return job.job_id
