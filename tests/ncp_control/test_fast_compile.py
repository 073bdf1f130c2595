"""First use compiles only the kernel code a model needs: a CfC without backbone (every wired
CfC) never types the backbone's activation, and each shared helper compiles once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ncp_control.fast import available

pytestmark = pytest.mark.skipif(not available(), reason="the 'fast' extra (numba) is not installed")

_CHILD = """
import json, torch
from ncp_control import AutoNCP, CfC
from ncp_control.fast import blas, kernel_math as m
from ncp_control.fast.cfc import kernels as k
torch.set_num_threads(1)
model = CfC(5, AutoNCP(12, 2) if {wired} else 8)
x = torch.randn(3, 4, 5)
model(x)[0].square().mean().backward()
with torch.no_grad():
    model(x)
counts = {{f.py_func.__name__: len(f.overloads) for f in (m.activation, m.activation_grad, k._update, blas.gemm)}}
print(json.dumps(counts))
"""


def _compiled_overloads(wired: bool, cache: Path) -> dict[str, int]:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(wired=wired)], capture_output=True, text=True, check=True, env=env
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_cells_without_backbone_never_compile_the_activation(tmp_path: Path) -> None:
    counts = _compiled_overloads(True, tmp_path / "wired")
    assert counts == {"activation": 0, "activation_grad": 0, "_update": 1, "gemm": 1}


def test_backbone_compiles_its_activation(tmp_path: Path) -> None:
    counts = _compiled_overloads(False, tmp_path / "unwired")
    assert counts["activation"] == 1 and counts["activation_grad"] == 1
    assert counts["_update"] == 1 and counts["gemm"] == 1
