"""``ncp-control bench envs``: runs, prints one row per environment with its ratio, checks arguments."""

from __future__ import annotations

import pytest
from ncp_control.cli import bench_envs


def test_bench_envs_prints_rows_for_the_filtered_envs(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_envs.main(["--seconds", "0.05", "--filter", "LaneKeeping"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("LaneKeeping-v0")]
    assert len(rows) == 2 and "observation=camera" in rows[1]
    for row in rows:
        assert row.split()[-4].endswith("x") and row.split()[-1] in ("yes", "NO")
    assert "HalfCheetah-v5" in out and "Pendulum" not in out


def test_bench_envs_rejects_bad_seconds() -> None:
    with pytest.raises(ValueError, match="--seconds must be positive"):
        bench_envs.main(["--seconds", "0"])
