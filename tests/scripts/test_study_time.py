"""The time study script: resumable (finished runs are skipped), writes the AUC table and plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ncp_control.cli import study_time


def _records(seeds: int = 3) -> list[dict]:
    return [{"run": study_time.run_id(env, variant, training, seed), "env_id": env, "variant": variant,
             "training": training, "seed": seed, "auc": {"timing": 0.5 + 0.1 * seed, "dynamics": 0.9},
             "clean_return": 100.0 + 10 * seed}
            for env in study_time.ENVS[:1] for variant in study_time.VARIANTS for training in study_time.TRAININGS
            for seed in range(seeds)]


def test_finished_runs_are_skipped_and_the_table_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _records(2)))
    monkeypatch.setattr(study_time, "run_one", lambda *a: pytest.fail("a finished run was run again"))
    assert study_time.main(["--quick", "--out", str(tmp_path), "--reps", "50"]) == 0
    table = pd.read_csv(tmp_path / "auc.csv")
    assert len(table) == 16 and set(table["seeds"]) == {2}
    assert (tmp_path / "auc_NCPControl-LaneKeeping-v0.png").is_file()


def test_summary_is_the_iqm_with_a_bootstrap_interval() -> None:
    table = study_time.summarize(_records(4), reps=200)
    row = table[(table["model"] == "MLP/nominal") & (table["family"] == "timing")].iloc[0]
    assert row["auc_iqm"] == pytest.approx(0.65) and row["auc_low"] <= row["auc_iqm"] <= row["auc_high"]
    assert row["clean_return_iqm"] == pytest.approx(115.0)
    assert row["clean_return_low"] <= row["clean_return_iqm"] <= row["clean_return_high"]


def test_records_without_a_clean_return_summarise_their_auc_alone() -> None:
    records = _records(3)
    for record in records:
        del record["clean_return"]
    table = study_time.summarize(records, reps=100)
    row = table[(table["model"] == "MLP/nominal") & (table["family"] == "timing")].iloc[0]
    assert row["auc_iqm"] == pytest.approx(0.6) and np.isnan(row["clean_return_iqm"])


def test_quick_study_runs_end_to_end_and_resumes(tmp_path: Path) -> None:
    assert study_time.main(["--quick", "--seeds", "1", "--out", str(tmp_path), "--reps", "50"]) == 0
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 8 and {"timing", "dynamics"} <= set(json.loads(lines[1])["auc"])
    assert all(np.isfinite(json.loads(line)["clean_return"]) for line in lines)
    assert study_time.main(["--quick", "--seeds", "1", "--out", str(tmp_path), "--reps", "50"]) == 0
    assert (tmp_path / "runs.jsonl").read_text().splitlines() == lines


def test_envs_variants_and_trainings_choose_the_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []

    def fake_run(out: Path, env_id: str, variant: str, training: str, seed: int, args: object) -> dict:
        ran.append(study_time.run_id(env_id, variant, training, seed))
        return {"run": ran[-1], "env_id": env_id, "variant": variant, "training": training, "seed": seed,
                "auc": {"timing": 0.8}, "clean_return": 100.0}

    monkeypatch.setattr(study_time, "run_one", fake_run)
    argv = ["--envs", "NCPControl/QuadHover-v0", "--variants", "MLP", "LSTM", "--trainings", "randomised",
            "--seeds", "2", "--out", str(tmp_path), "--reps", "20"]
    assert study_time.main(argv) == 0
    assert ran == [study_time.run_id("NCPControl/QuadHover-v0", variant, "randomised", seed)
                   for variant in ("MLP", "LSTM") for seed in (0, 1)]


def test_first_seed_and_runs_finished_by_another_process_are_skipped(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    other = study_time.run_id("NCPControl/QuadHover-v0", "MLP", "nominal", 4)

    def fake_run(out: Path, env_id: str, variant: str, training: str, seed: int, args: object) -> dict:
        ran.append(study_time.run_id(env_id, variant, training, seed))
        if seed == 3:  # meanwhile another process sharing the folder finishes seed 4
            study_time.append_result(out / "runs.jsonl", {"run": other, "env_id": env_id, "variant": variant,
                                                          "training": training, "seed": 4, "auc": {"timing": 0.7}})
        return {"run": ran[-1], "env_id": env_id, "variant": variant, "training": training, "seed": seed,
                "auc": {"timing": 0.8}, "clean_return": 100.0}

    monkeypatch.setattr(study_time, "run_one", fake_run)
    argv = ["--envs", "NCPControl/QuadHover-v0", "--variants", "MLP", "--trainings", "nominal", "--first-seed", "3",
            "--seeds", "3", "--out", str(tmp_path), "--reps", "20"]
    assert study_time.main(argv) == 0
    assert ran == [study_time.run_id("NCPControl/QuadHover-v0", "MLP", "nominal", seed) for seed in (3, 5)]
