"""``ncp-control bench solvers --quick``: runs and prints its tables and the target line."""

from __future__ import annotations

from pathlib import Path

import pytest
from ncp_control.cli import bench_solvers


def test_bench_solvers_quick_prints_its_tables(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plot = tmp_path / "memory.png"
    assert bench_solvers.main(["--quick", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["hyper_semi_implicit"]]
    assert rows and all(float(row[3]) >= 0 for row in rows)
    assert "hyper_semi_implicit-2 vs semi_implicit-6: error ratio" in out
    assert "target (error <= semi_implicit-6 at <= 1/3 of its time):" in out
    assert "Stiff regime: timespan 16" in out and "BPTT vs adjoint" in out
    assert plot.stat().st_size > 0
