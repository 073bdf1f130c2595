"""Run a sweep: every job once, resumable, each failed job retried once (not one that failed on
its configuration, a :class:`~ncp_control.errors.UserError`, which would fail again), then one
merged report. Every job's configuration is checked (built once) before any job starts.

State lives in ``<out>/sweep_state.json`` (written atomically by the driver only): each job's
status, attempts and last error. Running the same sweep again after a kill skips finished
jobs and resumes the others from their checkpoints and finished cells.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from ncp_control.agents.common.env_util import make_env
from ncp_control.agents.common.files import atomic_write_bytes, atomic_write_json
from ncp_control.agents.progress import Progress
from ncp_control.agents.robustness.evaluate import evaluate_random
from ncp_control.agents.robustness.report import write_report
from ncp_control.agents.robustness.table import COLUMNS, read_results
from ncp_control.agents.runs import RunFolder
from ncp_control.agents.sweep.backends import is_user_error, make_backend
from ncp_control.agents.sweep.config import Job, SweepConfig
from ncp_control.agents.sweep.jobs import results_file, run_folder
from ncp_control.envs.perturbations.suites import resolve_suite

from ncp_control.errors import UserError

MAX_ATTEMPTS = 2


@dataclass
class SweepReport:
    """What a sweep did.

    :param done: ids of finished jobs.
    :param failed: id -> last error of jobs that failed twice.
    :param results: the merged results table (``None`` without suites).
    :param files: report files written.
    """

    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    results: Path | None = None
    files: list[Path] = field(default_factory=list)


def _load_state(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except json.JSONDecodeError as error:
        raise UserError(f"{path} is corrupt: {error}") from None


def _save_state(path: Path, state: dict[str, dict[str, Any]]) -> None:
    atomic_write_json(path, state, sort_keys=True)


def _finished(root: Path, job: Job, state: dict[str, dict[str, Any]]) -> bool:
    entry = state.get(job.job_id, {})
    return entry.get("status") == "done" and RunFolder(run_folder(root, job)).is_done()


def _check_envs_and_suites(config: SweepConfig) -> None:
    """Fail before any training for an unknown env id, suite or level (one line each); each
    distinct (env, suite, levels) is resolved once (each job resolves its suites again, once, in
    its own process)."""
    for env_id in config.envs:
        env = make_env(env_id)
        try:
            wanted = dict.fromkeys((suite, job.levels) for job in config.jobs if job.config.env_id == env_id
                                   for suite in job.suites)
            for suite, levels in wanted:
                resolve_suite(suite, levels, env)
        finally:
            env.close()


def _check_models_build(config: SweepConfig) -> None:
    """Fail before any training for a configuration that does not build (a policy typo, an
    argument of the wrong type): each distinct (env, algorithm, policy, arguments) is built once."""
    from ncp_control.agents.runs import new_model

    seen: set[str] = set()
    for job in config.jobs:
        probe = replace(job.config, n_envs=1, seed=0)
        key = json.dumps(asdict(probe), sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        try:
            model = new_model(probe)
        except UserError as error:
            raise UserError(f"job {job.job_id}: {error}") from None
        env = model.get_env()
        if env is not None:
            env.close()


def _job_spec(job: Job) -> dict[str, Any]:
    spec = asdict(job)
    spec["levels"] = None if job.levels is None else list(job.levels)
    spec["suites"] = list(job.suites)
    return json.loads(json.dumps(spec, default=str))


def _check_job_spec(root: Path, job: Job) -> None:
    """Record a job's settings in its run folder, or refuse to resume it with other settings."""
    path = run_folder(root, job) / "job.json"
    spec = _job_spec(job)
    if path.exists():
        stored = json.loads(path.read_text())
        changed = sorted(k for k in set(spec) | set(stored) if spec.get(k) != stored.get(k))
        if changed:
            raise UserError(
                f"{path.parent} was run with other settings ({', '.join(changed)} differ); "
                "use another output folder for a changed sweep"
            )
        return
    atomic_write_json(path, spec)


def run_sweep(
    config: SweepConfig,
    out_dir: str | os.PathLike[str],
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    progress: bool = True,
) -> SweepReport:
    """Run (or resume) a sweep and write its merged results and report.

    :param config: the sweep.
    :param out_dir: output folder (run folders under ``runs/``).
    :param workers: local processes, or CPUs of a local Ray instance.
    :param backend: ``"local"`` or ``"ray"``.
    :param address: Ray cluster address.
    :param progress: show a progress bar over jobs.
    :return: the report.
    """
    root = Path(out_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    state_path = root / "sweep_state.json"
    state = _load_state(state_path)
    report = SweepReport()
    _check_envs_and_suites(config)
    _check_models_build(config)
    for job in config.jobs:
        _check_job_spec(root, job)
    pending = [job for job in config.jobs if not _finished(root, job, state)]
    report.done = [job.job_id for job in config.jobs if job not in pending]
    for job in pending:
        state[job.job_id] = {"status": "pending", "attempts": 0, "error": None}
    _save_state(state_path, state)
    if pending:
        runner = make_backend(backend, str(root), workers, address)
        bar = Progress(len(config.jobs), "jobs", "sweep", enabled=progress, initial=len(report.done))
        poller = JobPoller(bar, {job.job_id: RunFolder(run_folder(root, job)) for job in pending})
        if progress:
            poller.start()
        try:
            for job in pending:
                runner.submit(job)
            outstanding = len(pending)
            while outstanding:
                job, error = runner.wait()
                entry = state[job.job_id]
                entry["attempts"] += 1
                if error is None:
                    entry.update(status="done", error=None)
                    report.done.append(job.job_id)
                    poller.finished(job.job_id)
                    bar.advance()
                    outstanding -= 1
                elif entry["attempts"] < MAX_ATTEMPTS and not is_user_error(error):  # a config error fails again
                    entry.update(status="retrying", error=error)
                    runner.submit(job)
                else:
                    entry.update(status="failed", error=error)
                    report.failed[job.job_id] = error
                    poller.finished(job.job_id)
                    bar.advance()
                    outstanding -= 1
                _save_state(state_path, state)
        finally:
            poller.stop()
            bar.close()
            runner.close()
    report.results, report.files = _merge(config, root, set(report.done))
    return report


class JobPoller:
    """Shows, on the sweep's bar, how far each unfinished job is (read every ``period`` seconds from
    its run folder's ``progress.json``, which the job writes from whichever process or node runs
    it): ``CfC-NCP__seed0 12288/32768 steps | MLP__seed0 evaluating dynamics 0/2 suites``.

    :param bar: the sweep's bar.
    :param folders: job id -> its run folder.
    :param period: seconds between reads.
    """

    def __init__(self, bar: Progress, folders: dict[str, RunFolder], period: float = 2.0) -> None:
        self.bar, self.folders, self.period = bar, dict(folders), period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweep-progress", daemon=True)

    def start(self) -> None:
        """Start reading in a background thread."""
        self._thread.start()

    def finished(self, job_id: str) -> None:
        """:param job_id: a job that has ended (no longer shown)."""
        self.folders.pop(job_id, None)

    def line(self) -> str:
        """:return: the note: each unfinished job that has started, and how far it is."""
        parts = []
        for job_id, folder in list(self.folders.items()):
            state = folder.progress()
            if state:
                parts.append(f"{job_id} {state['task']} {state['done']}/{state['total']} {state['unit']}")
        return " | ".join(parts)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.bar.note(self.line())

    def stop(self) -> None:
        """Stop reading."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


def _merge(config: SweepConfig, root: Path, done: set[str]) -> tuple[Path | None, list[Path]]:
    """Random baselines, the merged table ``results.csv`` and the report of finished jobs."""
    tables = [read_results(results_file(root, job)) for job in config.jobs if job.job_id in done and job.suites]
    tables = [t for t in tables if not t.empty]
    if not tables:
        return None, []
    baseline = root / "random.csv"
    for env_id in config.envs:
        evaluate_random(env_id, config.episodes, config.eval_seed, results=baseline)
    merged = pd.concat([read_results(baseline), *tables], ignore_index=True)[COLUMNS]
    path = root / "results.csv"
    atomic_write_bytes(path, merged.to_csv(index=False).encode())
    written = write_report(merged, root / "report", train_shifts={job.model: job.config.train_shift
                                                                  for job in config.jobs})
    return path, [path, *written["tables"], *written["plots"]]
