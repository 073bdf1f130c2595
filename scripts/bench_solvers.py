"""Benchmark: LTC solvers, accuracy against cost, the hypersolver, and BPTT against the adjoint.

1. Accuracy and cost: the RMS state error over whole trajectories of a random-init LTC
   (AutoNCP(32, 4), 8 smooth random inputs, timespan 1) against RK4 at 64 steps, and the time
   per sequence step (batch 16, per-step loop, no gradients, one torch thread) of Euler,
   semi-implicit and RK4 at 1/2/4/6 unfolds, dopri5 (with torchdiffeq) and the hypersolvers at
   1/2 unfolds (fitted on other trajectories of the same model). Explicit solvers take more
   steps where the requested number would be unstable: the ``steps`` column says how many.
   Target: a hypersolver at 1-2 unfolds reaches semi-implicit-6's error in a third of its time.
2. Stiff regime: the same solvers at longer timespans (the hypersolvers fitted at 1).
3. BPTT against the adjoint: forward + backward time, the memory autograd saves for the
   backward pass (bytes of the tensors saved, counted by ``torch.autograd.graph.
   saved_tensors_hooks``, each storage once) and the gradients' agreement, for sequence lengths
   128..1024 (``--lengths`` for others, 4096 included): dopri5 with backprop through the solver and with the adjoint method, and the
   semi-implicit solver (6 unfolds) with BPTT. A plot of memory against length goes to
   ``--plot``.

Run: ``ncp-control bench solvers [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable
from typing import Any

import torch

from ncp_control import LTC, AutoNCP
from ncp_control.solvers import HyperCorrection, fit_hypersolver, reference_states, solver_states

FEATURES = 8
PLAIN = [(s, n) for s in ("euler", "semi_implicit", "rk4") for n in (1, 2, 4, 6)]
HYPER = [(s, n) for s in ("hyper_euler", "hyper_semi_implicit") for n in (1, 2)]


def smooth_inputs(seed: int, batch: int, steps: int) -> torch.Tensor:
    """:return: random-walk inputs ``[B, T, F]``."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, steps, FEATURES, generator=g).cumsum(1) * 0.3


def build(units: int = 32, motor: int = 4, seed: int = 0) -> LTC:
    """:return: a random-init LTC on the per-step loop."""
    torch.manual_seed(seed)
    return LTC(FEATURES, AutoNCP(units, motor, seed=seed + 1), implementation="reference")


def has_torchdiffeq() -> bool:
    """:return: whether the adaptive solvers are installed."""
    return importlib.util.find_spec("torchdiffeq") is not None


def measure(model: LTC, x: torch.Tensor, dt: float, solver: str, unfolds: int, reference: torch.Tensor) -> dict[str, Any]:
    """Error and time per step of one solver over the trajectories ``x``."""
    cell = model.ltc_cell
    start = time.perf_counter()
    states = solver_states(model, x, dt, solver, unfolds)
    seconds = (time.perf_counter() - start) / x.shape[1]
    steps = "adapt." if solver == "dopri5" else cell.solver_steps(torch.full((1,), dt), solver, unfolds)
    error = float((states - reference).square().mean().sqrt())
    return {"solver": solver, "unfolds": unfolds, "steps": steps, "error": error, "ms": 1e3 * seconds}


def accuracy_table(
    model: LTC, x: torch.Tensor, dt: float, corrections: dict[str, HyperCorrection]
) -> list[dict[str, Any]]:
    """Every solver on the trajectories ``x`` at timespan ``dt``; each hypersolver with its
    fitted correction from ``corrections``."""
    reference = reference_states(model, x, dt)
    cases = PLAIN + ([("dopri5", 1)] if has_torchdiffeq() else []) + HYPER
    measure(model, x[:, :2], dt, "semi_implicit", 1, reference[:, :3])  # warm-up
    rows = []
    for solver, n in cases:
        model.ltc_cell.hypersolver = corrections.get(solver)
        rows.append(measure(model, x, dt, solver, n, reference))
    return rows


def print_table(rows: list[dict[str, Any]], title: str) -> None:
    """Print the accuracy table."""
    print(f"\n{title}")
    print(f"{'solver':<22}{'unfolds':>8}{'steps':>7}{'RMS error':>12}{'ms/step':>10}")
    for r in rows:
        print(f"{r['solver']:<22}{r['unfolds']:>8}{r['steps']:>7}{r['error']:>12.2e}{r['ms']:>10.3f}")


def target(rows: list[dict[str, Any]]) -> bool:
    """Print the hypersolver against semi-implicit at 6 unfolds; :return: whether it is met."""
    anchor = next(r for r in rows if r["solver"] == "semi_implicit" and r["unfolds"] == 6)
    met = False
    for r in rows:
        if r["solver"].startswith("hyper"):
            ok = r["error"] <= anchor["error"] and r["ms"] <= anchor["ms"] / 3
            met = met or ok
            print(
                f"{r['solver']}-{r['unfolds']} vs semi_implicit-6: error ratio {r['error'] / anchor['error']:.2f}, "
                f"time ratio {r['ms'] / anchor['ms']:.2f} -> {'met' if ok else 'not met'}"
            )
    print(f"target (error <= semi_implicit-6 at <= 1/3 of its time): {'met' if met else 'not met'}")
    return met


def saved_bytes(fn: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, int]:
    """:return: ``fn()`` and the bytes of the tensors autograd saved for the backward pass."""
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, sum(storages.values())


def gradient_case(model: LTC, x: torch.Tensor, solver: str, adjoint: bool) -> dict[str, Any]:
    """Forward + backward of ``y.square().mean()``: time, saved bytes, the gradients."""
    cell = model.ltc_cell
    cell.solver, cell.adjoint, cell.ode_unfolds = solver, adjoint, 6
    model.zero_grad(set_to_none=True)
    start = time.perf_counter()
    y, memory = saved_bytes(lambda: model(x, timespans=1.0)[0])
    y.square().mean().backward()
    seconds = time.perf_counter() - start
    grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    cell.solver, cell.adjoint = "semi_implicit", False
    return {"seconds": seconds, "mb": memory / 2**20, "grads": grads}


def bptt_vs_adjoint(lengths: list[int], plot: str | None) -> None:
    """Time, memory and gradient agreement of BPTT and the adjoint over sequence lengths."""
    model = build(16, 2)
    cell = model.ltc_cell
    cell.rtol, cell.atol = 1e-5, 1e-6
    ode = has_torchdiffeq()
    print("\nBPTT vs adjoint (LTC AutoNCP(16, 2), batch 4, timespan 1; memory: bytes autograd saves "
          "for backward, saved_tensors_hooks)")
    print(f"{'T':>6}{'case':>26}{'fwd+bwd s':>11}{'saved MB':>10}{'grad rel. diff':>16}")
    series: dict[str, list[float]] = {}
    for length in lengths:
        x = smooth_inputs(5, 4, length)
        cases = [("semi_implicit-6 BPTT", "semi_implicit", False)]
        if ode:
            cases += [("dopri5 BPTT", "dopri5", False), ("dopri5 adjoint", "dopri5", True)]
        results = {name: gradient_case(model, x, solver, adjoint) for name, solver, adjoint in cases}
        for name, r in results.items():
            diff = ""
            if name == "dopri5 adjoint":
                g0 = results["dopri5 BPTT"]["grads"]
                diff = f"{float((r['grads'] - g0).norm() / g0.norm()):.1e}"
            series.setdefault(name, []).append(r["mb"])
            print(f"{length:>6}{name:>26}{r['seconds']:>11.2f}{r['mb']:>10.2f}{diff:>16}")
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5))
        for name, values in series.items():
            ax.loglog(lengths, values, marker="o", label=name)
        ax.set_xlabel("sequence length T")
        ax.set_ylabel("memory saved for backward (MB)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(plot, dpi=120)
        print(f"plot: {plot}")


def main(argv: list[str] | None = None) -> int:
    """:param argv: command-line arguments.
    :return: exit status 0."""
    parser = argparse.ArgumentParser(prog="ncp-control bench solvers", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny version (seconds): small data and fit, two lengths")
    parser.add_argument("--plot", default=None, help="file for the memory-against-length plot (PNG)")
    parser.add_argument("--lengths", type=int, nargs="+", default=None, help="sequence lengths for BPTT vs adjoint")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    batch, steps, fit_batch, iterations = (2, 10, 4, 100) if args.quick else (16, 100, 32, 1500)
    lengths = args.lengths or ([16, 32] if args.quick else [128, 512, 1024])
    model = build()
    train = smooth_inputs(1, fit_batch, steps)
    corrections: dict[str, HyperCorrection] = {}
    for solver in ("hyper_euler", "hyper_semi_implicit"):
        fit_hypersolver(model, train, 1.0, solver, (1, 2), iterations=iterations, lr=1e-2)
        assert model.ltc_cell.hypersolver is not None
        corrections[solver] = model.ltc_cell.hypersolver
    rows = accuracy_table(model, smooth_inputs(2, batch, steps), 1.0, corrections)
    print_table(rows, f"Accuracy vs cost: LTC AutoNCP(32, 4), batch {batch}, {steps} steps, timespan 1, "
                "error against RK4 at 64 steps")
    target(rows)
    for dt in (4.0, 16.0):
        stiff = [r for r in accuracy_table(model, smooth_inputs(2, batch, steps), dt, corrections) if r["unfolds"] in (1, 6)]
        print_table(stiff, f"Stiff regime: timespan {dt:g} (hypersolvers fitted at timespan 1)")
    bptt_vs_adjoint(lengths, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
