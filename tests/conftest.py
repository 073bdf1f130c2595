"""Shared test set-up: one torch thread (small recurrent networks are slower with two)."""

import os

os.environ.setdefault("MUJOCO_GL", "disable")

import torch  # noqa: E402

torch.set_num_threads(1)
