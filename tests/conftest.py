"""Shared test set-up: one torch thread (small recurrent networks are slower with two)."""

import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "disable")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


def pytest_collection_modifyitems(items: list) -> None:
    """Slow tests first, so that with ``-n 2`` the long ones start at once on both workers and
    the short ones fill in around them (the run then lasts about half the total, not a long test
    added at the end). The workers take one test at a time (``--dist load --maxschedchunk 1``
    in pyproject.toml): handed out in chunks or halves, the slow tests all went to one worker."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """:return: one cycle ``[a, b, ..., a]`` of the graph, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for succ in sorted(graph.get(node, ())):
            if state.get(succ) == 1:
                return path[path.index(succ):] + [succ]
            if succ not in state:
                found = visit(succ)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


@pytest.fixture
def find_cycle():
    """The one cycle finder of the import-graph tests (fast/'s layout, the agents' house)."""
    return _find_cycle


@pytest.fixture
def ray_exclusive() -> Iterator[None]:
    """One Ray cluster at a time on this machine: the tests that start one hold this lock, so
    that with ``-n 2`` a cluster never comes up while another one is taking its ports (a driver
    could otherwise reach the other cluster's port and be refused)."""
    with open(Path(tempfile.gettempdir()) / "ncp-control-tests-ray.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
