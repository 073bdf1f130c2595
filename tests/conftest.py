"""Shared test set-up: one torch thread (small recurrent networks are slower with two)."""

import os

os.environ.setdefault("MUJOCO_GL", "disable")

import torch  # noqa: E402

torch.set_num_threads(1)


def pytest_collection_modifyitems(items: list) -> None:
    """Slow tests first, so that with ``-n 2`` the long ones start at once on both workers and
    the short ones fill in around them (the run then lasts about half the total, not a long test
    added at the end)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
