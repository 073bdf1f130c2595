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


@pytest.mark.slow
def test_bench_solvers_rl_trains_saves_and_loads_its_policy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from ncp_control.errors import UserError

    folder = tmp_path / "policy"
    args = ["--quick", "--parts", "rl", "--rl-model", str(folder)]
    assert bench_solvers.main(args) == 0
    trained = capsys.readouterr().out
    assert "LiquidPPO:LTCPolicy trained on NCPControl/CartPoleNoVel-v1, 256 steps" in trained
    assert bench_solvers.main(args) == 0
    loaded = capsys.readouterr().out
    assert f"policy loaded from {folder}" in loaded

    def returns(out: str) -> list[list[str]]:
        table = out.split("The trained policy with its actor on each solver")[1].splitlines()[2:]
        return [row.split() for row in table if row.strip()]

    rows = returns(loaded)
    assert [tuple(r[:3]) for r in rows] == [(s, str(n), ref or "-") for s, n, ref in bench_solvers.RL_SETTINGS]
    assert rows[0][4] == "0.00e+00"  # semi_implicit-6 against itself
    assert [r[5] for r in rows] == [r[5] for r in returns(trained)]  # the same policy, the same episodes
    assert "Accuracy vs cost, trained LTC" in loaded and "fitted to semi_implicit-6 on 2 episodes" in loaded
    with pytest.raises(UserError, match="--rl-model"):
        bench_solvers.main([*args, "--rl-steps", "512"])


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--lengths", "16", "0"], "--lengths"),
        (["--dopri5-bptt-max", "0"], "--dopri5-bptt-max"),
        (["--parts", "rl", "--rl-steps", "-5"], "--rl-steps"),
        (["--parts", "accuracy", "--plot", "memory.png"], "--plot"),
        (["--parts", "bptt", "--rl-model", "policy"], "--rl-model"),
        (["--rl-seed", "3"], "--rl-seed"),
    ],
)
def test_bench_solvers_refuses_bad_arguments_before_running(args: list[str], option: str) -> None:
    from ncp_control.errors import UserError

    with pytest.raises(UserError, match=option):
        bench_solvers.main(["--quick", *args])
