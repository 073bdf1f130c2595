"""``ncp-control demo`` on a tiny budget: both policies trained, three models evaluated, report written."""

import pandas as pd
from ncp_control.cli.cli import main


def test_demo_tiny_budget_writes_table_and_plots(tmp_path, capsys):
    out = tmp_path / "demo"
    status = main(["demo", "--quick", "--timesteps", "1024", "--episodes", "1", "--workers", "1",
                   "--no-progress", "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "results_with_reference.csv")
    assert set(table["model"]) == {"CfC-NCP", "MLP", "reference", "random"}
    # per model: clean + dynamics (mass, inertia, friction) + timing (control_rate, dt_jitter) at level 1
    for model in ("CfC-NCP", "MLP", "reference"):
        mine = table[table["model"] == model]
        assert len(mine) == 6
        assert set(mine["perturbation"]) == {"none", "mass", "inertia", "friction", "control_rate", "dt_jitter"}
    reference_clean = table[(table["model"] == "reference") & (table["perturbation"] == "none")]
    assert reference_clean["success"].iloc[0] == 1.0  # the PID reference drives the whole route
    plots = sorted((out / "report").glob("*.png")) + sorted((out / "report").glob("*.svg"))
    assert len(plots) == 4 and all(p.stat().st_size > 1000 for p in plots)
    assert str(out / "report") in printed
    # the demo's run folders are ordinary runs: evaluate one and render its first episode
    run = out / "runs" / "NCPControl-LaneKeeping-v0__CfC-NCP__seed0"
    assert main(["evaluate", str(run), "--episodes", "1", "--render", str(tmp_path / "frames")]) == 0
    frames = sorted((tmp_path / "frames").glob("frame_*.png"))
    length = int(table[(table["model"] == "CfC-NCP") & (table["perturbation"] == "none")]["length"].iloc[0])
    assert len(frames) == length + 1 and frames[0].stat().st_size > 1000  # the reset frame, then one per step
    assert main(["evaluate", str(run), "--episodes", "1", "--render", str(tmp_path / "drive.gif")]) == 0
    assert (tmp_path / "drive.gif").stat().st_size > 1000
    assert main(["evaluate", str(run), "--episodes", "1", "--render", str(tmp_path / "drive.mp4")]) == 0
    assert (tmp_path / "drive.mp4").stat().st_size > 1000
