"""The training benchmark runs end to end on a tiny budget and prints ratios to both anchors."""

from __future__ import annotations

import re

import pytest
from ncp_control.cli.bench_training import main


def test_bench_training_prints_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env", "Pendulum-v1", "--n-envs", "2", "--steps", "64", "--n-steps", "16", "--batch-size", "32",
                 "--n-epochs", "1", "--seq-len", "8", "--units", "8", "--critics", "separate", "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert "x RecurrentPPO" in out and "x PPO" in out
    row = next(line for line in out.splitlines() if line.startswith("| LiquidPPO"))
    rate, vs_rppo, vs_ppo = (float(v) for v in re.findall(r"\d+\.?\d*", row.split("|", 2)[2]))
    assert rate > 0 and vs_rppo > 0 and vs_ppo > 0
