"""Every code example in README.md and docs/*.md runs, and does what its text says.

Fenced blocks are read from the Markdown. An HTML comment on the line before a block marks it:

- ``<!-- skip-test: REASON -->``: not run (installs, long training); the reason is required.
- ``<!-- test: slow, id=NAME -->``: ``slow`` marks the test slow; ``id`` names the extra checks
  in :data:`CHECKS` that run after the block (on its printed output and the files it wrote).
- ``<!-- quote: PATH -->`` (YAML): the block is a verbatim excerpt of the shipped file PATH.

``python`` blocks run in this process, each in a fresh namespace and its own temporary
folder; ``bash`` blocks run in ``bash -e`` with ``ncp-control`` calling this checkout's
command line; ``yaml`` blocks must parse. Identical blocks on several pages run once.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = {"python", "bash", "yaml"}
MARKER = re.compile(r"^<!--\s*(skip-test|test|quote):\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(`{3,})\s*([^\s`]*)\s*(.*)$")


@dataclass
class Block:
    """One fenced code block and its markers."""

    page: Path
    line: int
    language: str
    code: str
    skip: str | None = None
    slow: bool = False
    check: str | None = None
    quote: str | None = None
    also: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def read_blocks(page: Path) -> list[Block]:
    """:return: every fenced block of ``page`` in a runnable language, with its markers."""
    lines = page.read_text().splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, language = match.group(1), match.group(2)
        end = i + 1
        while end < len(lines) and not lines[end].startswith(fence):
            end += 1
        if language in RUNNABLE:
            block = Block(page, i + 1, language, "\n".join(lines[i + 1:end]) + "\n")
            previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = MARKER.match(previous.strip())
            if marker:
                kind, value = marker.groups()
                if kind == "skip-test":
                    block.skip = value
                elif kind == "quote":
                    block.quote = value
                else:
                    for item in (part.strip() for part in value.split(",")):
                        if item == "slow":
                            block.slow = True
                        elif item.startswith("id="):
                            block.check = item[3:]
                        else:
                            raise ValueError(f"{block.where}: unknown test marker {item!r}")
            blocks.append(block)
        i = end + 1
    return blocks


ALL_BLOCKS = [block for page in PAGES for block in read_blocks(page)]


def _unique(blocks: list[Block]) -> list[Block]:
    """Blocks with identical code run once; the first one records where the others are."""
    seen: dict[tuple[str, str], Block] = {}
    for block in blocks:
        key = (block.language, block.code)
        if key in seen:
            seen[key].also.append(block.where)
            seen[key].slow |= block.slow
        else:
            seen[key] = block
    return list(seen.values())


def _params(language: str) -> list:
    params = []
    for block in _unique([b for b in ALL_BLOCKS if b.language == language and b.skip is None]):
        marks = [pytest.mark.slow] if block.slow else []
        params.append(pytest.param(block, id=block.where, marks=marks))
    return params


# ---------------------------------------------------------------- checks of what the text claims


def _check_cartpole(out: str, folder: Path) -> None:
    # "(mean, std): mean 500.0 measured; 500 is a full episode": a (mean, std) pair, and the policy
    # learned (a random policy scores about 20; seeds 0-4 of this recipe end at 500, the tuning
    # seeds 100-104 at 493-500; the margin is for another processor's rounding).
    number = r"(?:np\.float64\()?(\d+(?:\.\d+)?)\)?"  # numpy 2 prints np.float64(284.2)
    match = re.search(rf"\({number}, {number}\)", out)
    assert match, out
    assert float(match.group(1)) >= 300.0, out
    assert (folder / "cfc_cartpole.zip").is_file()


def _check_rescaled(out: str, folder: Path) -> None:
    assert out.split() == ["[", "13.2", "-46.9]", "100.0"], out  # the NoVel observation x 1000, 100 per step


def _check_wiring_summary(out: str, folder: Path) -> None:
    assert "layers (sensory side first): 17, 11, 4" in out, out


def _check_shapes(out: str, folder: Path) -> None:
    assert "torch.Size([8, 50, 4]) torch.Size([8, 32])" in out, out


def _check_make_tuned(out: str, folder: Path) -> None:
    assert out.strip().endswith("LiquidPPO 100000"), out


def _check_train_run(out: str, folder: Path) -> None:
    run = folder / "runs" / "pendulum"
    for name in ("run.json", "config.yaml", "model", "weights", "eval.csv", "checkpoints"):
        assert (run / name).exists(), name


def _check_novel_obs(out: str, folder: Path) -> None:
    assert out.strip() == "(2,) 0.02", out


def _check_compose(out: str, folder: Path) -> None:
    for name in ("gust", "actuator_lag", "dt_jitter"):
        assert f"'{name}'" in out, out


def _check_suites(out: str, folder: Path) -> None:
    assert out.splitlines() == ["['control_rate', 'dt_jitter']", "['mass', 'inertia', 'friction']"], out


def _check_export_network(out: str, folder: Path) -> None:
    assert re.search(r"PC1 explains \d+% of the neuron activity", out), out
    for name in ("traces.png", "ltc.pt", "ltc.onnx", "ltc-weights/model.safetensors", "ltc-weights/config.json"):
        assert (folder / name).is_file(), name


def _check_deploy_policy(out: str, folder: Path) -> None:
    assert (folder / "pendulum-policy" / "policy.safetensors").is_file()
    assert (folder / "pendulum-policy" / "config.json").is_file()


def _check_robustness(out: str, folder: Path) -> None:
    assert "ppo" in out and "reference" in out, out
    assert (folder / "results.csv").is_file()
    assert list(folder.glob("retention*.png")) and list(folder.glob("auc*.png"))


def _check_sweep_yaml(code: str) -> None:
    from ncp_control.agents.sweep import parse_sweep

    config = parse_sweep(yaml.safe_load(code))  # builds each configuration once: the sweep would start
    assert len(config.jobs) == 9  # one job per (env, policy, seed)


def _check_cli_small(out: str, folder: Path) -> None:
    assert (folder / "runs" / "lane" / "run.json").is_file()
    assert (folder / "robustness" / "results.csv").is_file()


def _check_cli_deploy(out: str, folder: Path) -> None:
    export = folder / "runs" / "pendulum" / "export"
    assert (export / "policy.onnx").is_file() and (export / "policy.pt").is_file()
    assert (export / "weights").is_dir()


def _check_watch(out: str, folder: Path) -> None:
    assert "perturbations: friction:0.5, speed:1" in out, out
    assert all(f"  {name}" in out for name in ("CfCPolicy", "MlpPolicy", "reference")), out
    assert re.search(r"rendered seed 0 to compare\.mp4: \d+ frames at 20 fps", out), out
    assert (folder / "compare.mp4").stat().st_size > 1000


def _check_solvers_policy(out: str, folder: Path) -> None:
    # "[episodes, steps, features], as run" and "local error BASE -> FITTED": the fit lowers it
    assert re.search(r"torch\.Size\(\[4, \d+, 2\]\) \[", out), out
    match = re.search(r"local error (\S+) -> (\S+)", out)
    assert match and float(match.group(2)) < float(match.group(1)), out


CHECKS: dict[str, Callable[[str, Path], None]] = {
    "cartpole": _check_cartpole,
    "rescaled": _check_rescaled,
    "wiring-summary": _check_wiring_summary,
    "sequence-shapes": _check_shapes,
    "quickstart-shapes": _check_shapes,
    "make-tuned": _check_make_tuned,
    "train-run": _check_train_run,
    "novel-obs": _check_novel_obs,
    "compose": _check_compose,
    "suites": _check_suites,
    "export-network": _check_export_network,
    "deploy-policy": _check_deploy_policy,
    "robustness": _check_robustness,
    "cli-small": _check_cli_small,
    "cli-deploy": _check_cli_deploy,
    "solvers-policy": _check_solvers_policy,
    "watch": _check_watch,
}
YAML_CHECKS: dict[str, Callable[[str], None]] = {"sweep-yaml": _check_sweep_yaml}


# ---------------------------------------------------------------- the tests


def test_examples_are_found_and_marked():
    """Every runnable block is found; a skipped one gives its reason; every id has a check."""
    assert len(ALL_BLOCKS) >= 20
    for block in ALL_BLOCKS:
        if block.skip is not None:
            assert block.skip.strip(), f"{block.where}: skip-test needs a reason"
        if block.check is not None:
            assert block.check in CHECKS or block.check in YAML_CHECKS, f"{block.where}: no check {block.check!r}"
    assert any(b.page.name == "README.md" and b.language == "python" and b.skip is None for b in ALL_BLOCKS)


@pytest.mark.parametrize("block", _params("python"))
def test_python_example(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    out = io.StringIO()
    namespace = {"__name__": "__main__"}
    with contextlib.redirect_stdout(out):
        exec(compile(block.code, block.where, "exec"), namespace)
    if block.check is not None:
        CHECKS[block.check](out.getvalue(), tmp_path)


@pytest.mark.parametrize("block", _params("bash"))
def test_bash_example(block: Block, tmp_path: Path) -> None:
    prelude = f'ncp-control() {{ "{sys.executable}" -m ncp_control.cli "$@"; }}\n'
    # the package as this process imports it (installed, or on the caller's PYTHONPATH)
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(["bash", "-e", "-c", prelude + block.code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{block.where}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    if block.check is not None:
        CHECKS[block.check](result.stdout, tmp_path)


@pytest.mark.parametrize("block", _params("yaml"))
def test_yaml_example(block: Block) -> None:
    snippet = yaml.safe_load(block.code)
    assert snippet, block.where
    if block.quote is not None:
        shipped = (ROOT / block.quote).read_text()
        assert block.code in shipped, f"{block.where} is not a verbatim excerpt of {block.quote}"
        whole = yaml.safe_load(shipped)
        assert {key: whole[key] for key in snippet} == snippet
    if block.check is not None:
        YAML_CHECKS[block.check](block.code)
