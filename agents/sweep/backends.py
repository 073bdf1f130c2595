"""Where sweep jobs run: in this process, in a local process pool, or on a Ray cluster.

Each backend has ``submit(job) -> handle`` and ``wait() -> (handle, error or None)`` for the
next finished job; the retry policy lives in :mod:`ncp_control.agents.sweep.runner`.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any

from ncp_control.agents.sweep.config import Job
from ncp_control.agents.sweep.jobs import run_job

from ncp_control.errors import UserError

BACKENDS = ("local", "ray")


def _describe(error: BaseException) -> str:
    """One line for a job's error, starting with its type name (``UserError: ...`` for a configuration error)."""
    text = f"{type(error).__name__}: {error}"
    return text.strip().splitlines()[-1] if text.strip() else type(error).__name__


def is_user_error(description: str) -> bool:
    """:param description: a job's error as :func:`_describe` wrote it.
    :return: whether it is a :class:`~ncp_control.errors.UserError` (deterministic: not worth a retry)."""
    return description.startswith(f"{UserError.__name__}:")


class SerialBackend:
    """Runs each job in this process when it is submitted (``--workers 1``).

    :param root: the sweep's output folder.
    """

    def __init__(self, root: str):
        self.root = root
        self._done: list[tuple[Job, str | None]] = []

    def submit(self, job: Job) -> Job:
        try:
            run_job(job, self.root)
            self._done.append((job, None))
        except Exception as error:  # noqa: BLE001 - a failing job is reported, not fatal
            traceback.print_exc()
            self._done.append((job, _describe(error)))
        return job

    def wait(self) -> tuple[Job, str | None]:
        return self._done.pop(0)

    def close(self) -> None:
        pass


class PoolBackend:
    """A local pool of ``workers`` processes (spawned, one torch thread each).

    :param root: the sweep's output folder.
    :param workers: number of processes.
    """

    def __init__(self, root: str, workers: int):
        self.root, self.workers = root, workers
        self._pool = self._new_pool()
        self._futures: dict[Future[Any], Job] = {}

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, job: Job) -> Job:
        try:
            future = self._pool.submit(run_job, job, self.root, os.getpid())
        except RuntimeError:  # the pool broke (a worker died): start a new one
            self._pool = self._new_pool()
            future = self._pool.submit(run_job, job, self.root, os.getpid())
        self._futures[future] = job
        return job

    def wait(self) -> tuple[Job, str | None]:
        done, _ = wait_futures(list(self._futures), return_when=FIRST_COMPLETED)
        future = next(iter(done))
        job = self._futures.pop(future)
        error = future.exception()
        return job, None if error is None else _describe(error)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayBackend:
    """Jobs as Ray tasks (one CPU each) on an existing cluster or a local instance.

    :param root: the sweep's output folder (must be reachable from every node).
    :param address: a cluster address, or ``None`` to start a local instance.
    :param workers: CPUs of the local instance.
    """

    def __init__(self, root: str, address: str | None, workers: int):
        try:
            import ray
        except ImportError as error:
            raise UserError("--backend ray needs ray: pip install 'ncp-control[ray]'") from error
        self._ray = ray
        self.root = root
        self._started = not ray.is_initialized()
        if self._started:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_job)
        self._refs: dict[Any, Job] = {}

    def submit(self, job: Job) -> Job:
        self._refs[self._remote.remote(job, self.root)] = job
        return job

    def wait(self) -> tuple[Job, str | None]:
        ready, _ = self._ray.wait(list(self._refs), num_returns=1)
        ref = ready[0]
        job = self._refs.pop(ref)
        try:
            self._ray.get(ref)
        except Exception as error:  # noqa: BLE001 - a failing job is reported, not fatal
            cause = getattr(error, "cause", None)
            return job, _describe(cause if isinstance(cause, BaseException) else error)
        return job, None

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()


def make_backend(name: str, root: str, workers: int, address: str | None = None) -> Any:
    """Build a backend.

    :param name: ``"local"`` or ``"ray"``.
    :param root: the sweep's output folder.
    :param workers: processes (local) or CPUs of a local Ray instance.
    :param address: Ray cluster address.
    :return: the backend.
    """
    if name not in BACKENDS:
        raise UserError(f"unknown backend {name!r}; choose one of {list(BACKENDS)}")
    if workers < 1:
        raise UserError(f"workers must be at least 1, got {workers}")
    if name == "ray":
        return RayBackend(root, address, workers)
    if address:
        raise UserError("--address is only for --backend ray")
    return SerialBackend(root) if workers == 1 else PoolBackend(root, workers)
