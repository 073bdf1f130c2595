"""Benchmark: our liquid cells (compiled ``fast`` path) against ncps 1.0.1 and torch's LSTM.

Times forward + backward of a scalar loss (batch 64, sequence 128, 17 inputs, one torch
thread, median of ``--repeats`` runs after a warm-up, the implementations in alternating
turns), the no-grad forward, one control step at batch 1, 8 and 64, the peak memory of
forward + backward (each in its own process), the compile time of the kernels with an empty
cache, and the sparse/dense crossover of LTC synapses. Our models are built with
``from_ncps`` from the very ncps models they are timed against.

Run: ``ncp-control bench cells`` (or ``python -m ncp_control.cli.bench_cells``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ncp_control.errors import UserError

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

BATCH, STEPS, FEATURES = 64, 128, 17
CASES = {
    "CfC AutoNCP(32,4)": ("cfc", "ncp"),
    "CfC 32 units (backbone 128)": ("cfc", "unwired"),
    "CfC FullyConnected(32,4)": ("cfc", "full"),
    "LTC AutoNCP(32,4)": ("ltc", "ncp"),
    "LTC FullyConnected(32,4)": ("ltc", "full"),
}


def build(kind: str, wiring: str, seed: int = 0) -> tuple[torch.nn.Module, torch.nn.Module]:
    """:return: ``(ncps model, our model with the same weights, implementation "fast")``."""
    import ncps.torch
    import ncps.wirings

    from ncp_control import from_ncps

    torch.manual_seed(seed)
    units: object = 32
    if wiring == "ncp":
        units = ncps.wirings.AutoNCP(32, 4, seed=22222)
    elif wiring == "full":
        units = ncps.wirings.FullyConnected(32, 4)
    if kind == "cfc":
        theirs: torch.nn.Module = ncps.torch.CfC(FEATURES, units)
    else:
        theirs = ncps.torch.LTC(FEATURES, units)
    ours = from_ncps(theirs)
    ours.implementation = "fast"
    return theirs, ours


def _lstm() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.LSTM(FEATURES, 32, batch_first=True)


def _train_step(model: torch.nn.Module, x: torch.Tensor) -> Callable[[], None]:
    def run() -> None:
        model.zero_grad(set_to_none=True)
        y = model(x)[0]
        y.square().mean().backward()

    return run


def _forward(model: torch.nn.Module, x: torch.Tensor, h: torch.Tensor | None = None) -> Callable[[], None]:
    def run() -> None:
        with torch.no_grad():
            model(x) if h is None else model(x, h)

    return run


def median_times(fns: dict[str, Callable[[], None]], repeats: int, inner: int = 1) -> dict[str, float]:
    """Median seconds per call of each function, measured in alternating turns after a warm-up."""
    for fn in fns.values():
        for _ in range(max(1, inner // 4)):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[name].append((time.perf_counter() - start) / inner)
    return {name: statistics.median(values) for name, values in samples.items()}


def time_cases(repeats: int) -> list[dict[str, Any]]:
    """Training and inference timings of every case against ncps and the LSTM."""
    x = torch.randn(BATCH, STEPS, FEATURES)
    lstm = _lstm()
    from ncp_control.agents.progress import Progress

    rows = []
    bar = Progress(len(CASES), "cases", "timing")
    for name, (kind, wiring) in CASES.items():
        bar.describe(f"timing {name}")
        theirs, ours = build(kind, wiring)
        with torch.no_grad():
            a, b = theirs(x)[0], ours(x)[0]
            # ncps' single-layer wired CfC returns every unit, ours the motor neurons
            error = float((a - b).abs().max()) if a.shape == b.shape else float("nan")
        train = median_times(
            {"ours": _train_step(ours, x), "ncps": _train_step(theirs, x), "lstm": _train_step(lstm, x)},
            repeats,
        )
        infer = median_times(
            {"ours": _forward(ours, x), "ncps": _forward(theirs, x), "lstm": _forward(lstm, x)}, repeats
        )
        steps = {}
        for batch in (1, 8, 64):
            xs = x[:batch, :1]
            steps[batch] = median_times(
                {"ours": _forward(ours, xs), "ncps": _forward(theirs, xs), "lstm": _forward(lstm, xs)},
                repeats,
                inner=200,
            )
        rows.append({"case": name, "max_abs_diff": error, "train": train, "infer": infer, "steps": steps})
        bar.advance()
    bar.close()
    return rows


def peak_memory(case: str, which: str) -> float:
    """Peak resident memory (MB) that one forward + backward adds, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-m", "ncp_control.cli.bench_cells", "--memory-child", case, which],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"])


def _memory_child(case: str, which: str) -> None:
    torch.set_num_threads(1)
    kind, wiring = CASES[case]
    if which == "lstm":
        model = _lstm()
    else:
        theirs, ours = build(kind, wiring)
        model = ours if which == "ours" else theirs
    small = torch.randn(2, 3, FEATURES)
    _train_step(model, small)()  # load kernels, allocate parameter gradients
    x = torch.randn(BATCH, STEPS, FEATURES)
    before = _rss_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as handle:  # reset the peak (VmHWM) to the current RSS
        handle.write("5")
    _train_step(model, x)()
    peak = _rss_mb("VmHWM")
    print(json.dumps({"peak_mb": max(0.0, peak - before), "before_mb": before}))


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def compile_seconds() -> dict[str, float]:
    """First-use time of the kernels (forward + backward, small batch) with an empty cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = subprocess.run(
            [sys.executable, "-m", "ncp_control.cli.bench_cells", "--compile-child"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _compile_child() -> None:
    torch.set_num_threads(1)
    import ncp_control.fast  # noqa: F401  (numba import outside the timings)

    result = {}
    x = torch.randn(2, 3, FEATURES)
    cases = (("CfC wired", ("cfc", "ncp")), ("CfC unwired", ("cfc", "unwired")), ("LTC", ("ltc", "ncp")))
    for label, (kind, wiring) in cases:
        _, ours = build(kind, wiring)
        start = time.perf_counter()
        loss = ours(x)[0].square().mean()
        result[f"{label} forward"] = time.perf_counter() - start
        start = time.perf_counter()
        loss.backward()
        result[f"{label} backward"] = time.perf_counter() - start
        start = time.perf_counter()
        _forward(ours, x)()
        result[f"{label} no-grad"] = time.perf_counter() - start
    print(json.dumps(result))


def crossover(
    repeats: int, units_list: list[int], batch: int = 16, steps: int = 32
) -> list[dict[str, float]]:
    """LTC forward + backward over the wiring's edges and over all pairs, AutoNCP default sparsity."""
    from ncp_control import LTC, AutoNCP

    rows = []
    for units in units_list:
        model: Any = LTC(FEATURES, AutoNCP(units, 4, seed=22222))
        x = torch.randn(batch, steps, FEATURES)
        h0 = torch.zeros(batch, units)
        ts = torch.ones(batch, steps)

        runs = {name: _ltc_train(model, x, h0, ts, name == "sparse") for name in ("sparse", "dense")}
        times = median_times(runs, repeats)
        synapses = int(model.cell.sparsity_mask.sum()) + int(model.cell.sensory_sparsity_mask.sum())
        pairs = units * units + FEATURES * units
        rows.append({"units": units, "synapses": synapses, "pairs": pairs, **times})
    return rows


def _ltc_train(
    model: Any, x: torch.Tensor, h0: torch.Tensor, ts: torch.Tensor, sparse: bool
) -> Callable[[], None]:
    from ncp_control.fast.ltc import ltc_semi_implicit_sequence

    def run() -> None:
        model.zero_grad(set_to_none=True)
        ltc_semi_implicit_sequence(model.cell, x, h0, ts, ts, sparse=sparse).square().mean().backward()

    return run


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.2f}"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:8.1f}"


def report(
    rows: list[dict[str, Any]],
    memory: dict[str, dict[str, float]],
    compile_s: dict[str, float],
    cross: list[dict[str, float]],
) -> str:
    """The tables, speed-ups first."""
    lines = [f"batch {BATCH}, sequence {STEPS}, {FEATURES} inputs, 1 torch thread, medians", ""]
    lines.append(
        "| case | fwd+bwd vs ncps | fwd vs ncps | step b=1 vs ncps | fwd+bwd vs LSTM | ours fwd+bwd ms | ncps ms | LSTM ms |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    for row in rows:
        tr, inf, st = row["train"], row["infer"], row["steps"][1]  # type: ignore[index]
        lines.append(
            f"| {row['case']} | **{tr['ncps'] / tr['ours']:.1f}x** | {inf['ncps'] / inf['ours']:.1f}x | "
            f"{st['ncps'] / st['ours']:.1f}x | {tr['ours'] / tr['lstm']:.2f} | {_ms(tr['ours'])} | {_ms(tr['ncps'])} | "
            f"{_ms(tr['lstm'])} |"
        )
    lines += ["", "One step, no grad (us): ours / ncps / LSTM, and ncps/ours", ""]
    lines.append("| case | batch 1 | batch 8 | batch 64 |")
    lines.append("|---|---|---|---|")
    for row in rows:
        cells = []
        for batch in (1, 8, 64):
            t = row["steps"][batch]  # type: ignore[index]
            cells.append(
                f"{_us(t['ours']).strip()} / {_us(t['ncps']).strip()} / {_us(t['lstm']).strip()} ({t['ncps'] / t['ours']:.1f}x)"
            )
        lines.append(f"| {row['case']} | " + " | ".join(cells) + " |")
    if memory:
        lines += ["", "Peak memory added by one forward + backward (MB, own process each)", ""]
        lines.append("| case | ours | ncps | ncps/ours | LSTM |")
        lines.append("|---|---|---|---|---|")
        for case, mem in memory.items():
            lines.append(
                f"| {case} | {mem['ours']:.1f} | {mem['ncps']:.1f} | {mem['ncps'] / max(mem['ours'], 1e-3):.0f}x | {mem['lstm']:.1f} |"
            )
    if compile_s:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in compile_s.items())
        lines += [
            "",
            "First use with an empty kernel cache (compiling each kernel; kernels shared between cases"
            f" compile once): {parts}."
            " Later processes load the compiled kernels from the cache.",
        ]
    if cross:
        lines += [
            "",
            "LTC synapses over the wiring's edges vs all pairs (AutoNCP(units, 4), batch 16, sequence 32, fwd+bwd ms)",
            "",
        ]
        lines.append("| units | synapses / pairs | edges ms | all pairs ms | all pairs / edges |")
        lines.append("|---|---|---|---|---|")
        for c in cross:
            lines.append(
                f"| {c['units']} | {c['synapses']} / {c['pairs']} | {_ms(c['sparse'])} | {_ms(c['dense'])} | {c['dense'] / c['sparse']:.2f}x |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables.

    :param argv: command-line arguments (see ``--help``).
    :return: exit status.
    """
    parser = argparse.ArgumentParser(prog="ncp-control bench cells", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (median; >= 7)")
    parser.add_argument("--quick", action="store_true", help="skip memory, compile time and crossover")
    parser.add_argument(
        "--units", type=int, nargs="+", default=[16, 32, 64, 128, 256], help="crossover sizes"
    )
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--compile-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        _memory_child(*args.memory_child)
        return 0
    if args.compile_child:
        _compile_child()
        return 0
    if args.repeats < 1:
        raise UserError(f"--repeats must be >= 1, got {args.repeats}")
    torch.set_num_threads(1)
    compile_s = {} if args.quick else compile_seconds()
    rows = time_cases(args.repeats)
    memory: dict[str, dict[str, float]] = {}
    cross: list[dict[str, float]] = []
    if not args.quick:
        for case in ("CfC AutoNCP(32,4)", "LTC AutoNCP(32,4)"):
            memory[case] = {which: peak_memory(case, which) for which in ("ours", "ncps", "lstm")}
        cross = crossover(args.repeats, args.units)
    print(report(rows, memory, compile_s, cross))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
