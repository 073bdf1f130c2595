"""Benchmark: LTC solvers, accuracy against cost, the hypersolver, and BPTT against the adjoint.

1. Accuracy and cost: the RMS state error over whole trajectories of a random-init LTC
   (AutoNCP(32, 4), 8 smooth random inputs, timespan 1) against RK4 at 64 steps, and the time
   per sequence step (batch 16, per-step loop, no gradients, one torch thread, best of 3) of Euler,
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
   ``--plot``. ``--dopri5-bptt-max`` bounds the lengths at which dopri5 runs with BPTT (its
   memory and time grow fastest).
4. Used in RL (``--parts rl``): an ``LTCPolicy`` trained with LiquidPPO on CartPoleNoVel-v1
   (the benchmark's recipe, ``--rl-steps`` steps, kept in ``--rl-model`` and loaded from there
   next time) gets the semi-implicit hypersolver fitted on its actor network's inputs along 16
   of its own episodes, once to RK4-64 and once to semi-implicit-6 (the solver it trained with).
   On the inputs of 20 other episodes: the accuracy table of part 1 for the trained LTC, and
   for the actor at semi-implicit-6 (as trained), semi-implicit-1/2, RK4 and each hypersolver at
   1/2 unfolds its state error and the return of the same 20 seeded deterministic episodes.

Times are the process's CPU time (``time.process_time``, one torch thread): on a shared
machine the wall clock also counts the time other processes hold the cores.

Run: ``ncp-control bench solvers [--quick] [--parts accuracy bptt rl]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable
from typing import Any

import torch

from ncp_control import LTC, AutoNCP
from ncp_control.errors import UserError
from ncp_control.solvers import HyperCorrection, fit_hypersolver, reference_states, solver_states, use_solver
from ncp_control.solvers.fit import solver_cell

FEATURES = 8
PLAIN = [(s, n) for s in ("euler", "semi_implicit", "rk4") for n in (1, 2, 4, 6)]
HYPER = [(s, n) for s in ("hyper_euler", "hyper_semi_implicit") for n in (1, 2)]
PARTS = ("accuracy", "bptt", "rl")
#: every time measured is the process's CPU time (one torch thread), which the other work of a
#: shared machine inflates far less than the wall clock
CLOCK = time.process_time
#: runs of each timed solver pass; the best one counts (the others' slack is other work's)
REPEATS = 3


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


def rms(states: torch.Tensor, reference: torch.Tensor) -> float:
    """:return: the root-mean-square difference of two trajectories ``[B, T + 1, N]``."""
    return float((states - reference).square().mean().sqrt())


def measure(
    model: torch.nn.Module, x: torch.Tensor, dt: float | torch.Tensor, solver: str, unfolds: int, reference: torch.Tensor
) -> dict[str, Any]:
    """Error and time per step of one solver over the trajectories ``x`` (timespans ``dt``: a
    number or ``[B, T]``); the time is the best of :data:`REPEATS` runs."""
    cell = solver_cell(model)
    times = []
    for _ in range(REPEATS):
        start = CLOCK()
        states = solver_states(model, x, dt, solver, unfolds)
        times.append(CLOCK() - start)
    seconds = min(times) / x.shape[1]
    longest = torch.as_tensor(dt, dtype=torch.float32).max().reshape(1)
    steps = "adapt." if solver == "dopri5" else cell.solver_steps(longest, solver, unfolds)
    return {"solver": solver, "unfolds": unfolds, "steps": steps, "error": rms(states, reference),
            "ms": 1e3 * seconds}


def accuracy_table(
    model: torch.nn.Module, x: torch.Tensor, dt: float | torch.Tensor, corrections: dict[str, HyperCorrection]
) -> list[dict[str, Any]]:
    """Every solver on the trajectories ``x`` at timespans ``dt`` (a number or ``[B, T]``); each
    hypersolver with its fitted correction from ``corrections``."""
    reference = reference_states(model, x, dt)
    cases = PLAIN + ([("dopri5", 1)] if has_torchdiffeq() else []) + [c for c in HYPER if c[0] in corrections]
    warm = dt if isinstance(dt, float) else dt[:, :2]
    measure(model, x[:, :2], warm, "semi_implicit", 1, reference[:, :3])  # warm-up
    rows = []
    for solver, n in cases:
        solver_cell(model).hypersolver = corrections.get(solver)
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
    start = CLOCK()
    y, memory = saved_bytes(lambda: model(x, timespans=1.0)[0])
    y.square().mean().backward()
    seconds = CLOCK() - start
    grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    cell.solver, cell.adjoint = "semi_implicit", False
    return {"seconds": seconds, "mb": memory / 2**20, "grads": grads}


def bptt_vs_adjoint(lengths: list[int], plot: str | None, dopri5_bptt_max: int) -> None:
    """Time, memory and gradient agreement of BPTT and the adjoint over sequence lengths
    (dopri5 with BPTT up to ``dopri5_bptt_max`` steps only)."""
    model = build(16, 2)
    cell = model.ltc_cell
    cell.rtol, cell.atol = 1e-5, 1e-6
    ode = has_torchdiffeq()
    print("\nBPTT vs adjoint (LTC AutoNCP(16, 2), batch 4, timespan 1; memory: bytes autograd saves "
          "for backward, saved_tensors_hooks)")
    print(f"{'T':>6}{'case':>26}{'fwd+bwd s':>11}{'saved MB':>10}{'grad rel. diff':>16}")
    series: dict[str, tuple[list[int], list[float]]] = {}
    for length in lengths:
        x = smooth_inputs(5, 4, length)
        cases = [("semi_implicit-6 BPTT", "semi_implicit", False)]
        if ode:
            cases += [("dopri5 BPTT", "dopri5", False)] if length <= dopri5_bptt_max else []
            cases += [("dopri5 adjoint", "dopri5", True)]
        results = {}
        for name, solver, adjoint in cases:
            results[name] = r = gradient_case(model, x, solver, adjoint)
            diff = ""
            if name == "dopri5 adjoint" and "dopri5 BPTT" in results:
                g0 = results["dopri5 BPTT"]["grads"]
                diff = f"{float((r['grads'] - g0).norm() / g0.norm()):.1e}"
            points = series.setdefault(name, ([], []))
            points[0].append(length)
            points[1].append(r["mb"])
            print(f"{length:>6}{name:>26}{r['seconds']:>11.2f}{r['mb']:>10.2f}{diff:>16}", flush=True)
    if plot:
        import matplotlib
        import matplotlib.ticker

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5))
        for name, (at, values) in series.items():
            ax.loglog(at, values, marker="o", label=name)
        ax.set_xticks(lengths, [str(length) for length in lengths])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("sequence length T")
        ax.set_ylabel("memory saved for backward (MB)")
        ax.legend(loc="center right", fontsize=8)
        fig.tight_layout()
        fig.savefig(plot, dpi=120)
        print(f"plot: {plot}")


RL_ENV = "NCPControl/CartPoleNoVel-v1"
RL_AGENT = "LiquidPPO:LTCPolicy"
#: the flows a policy's hypersolver is fitted to: the accurate one, and the solver it was trained with
RL_REFERENCES = {"rk4-64": ("rk4", 64), "semi_implicit-6": ("semi_implicit", 6)}
#: the actor's solver settings compared: (solver, unfolds, the reference its correction was fitted to)
RL_SETTINGS: list[tuple[str, int, str | None]] = [
    ("semi_implicit", 6, None), ("semi_implicit", 1, None), ("semi_implicit", 2, None), ("rk4", 1, None),
    *[("hyper_semi_implicit", n, ref) for ref in RL_REFERENCES for n in (1, 2)],
]


def trained_policy(folder: str | None, steps: int, seed: int) -> Any:
    """An LTCPolicy trained with LiquidPPO on :data:`RL_ENV` (the benchmark's recipe, no
    normalisation), loaded from ``folder`` when it holds one of the same budget and seed,
    else trained and (with a folder) saved there."""
    from ncp_control.agents.benchmark import build_agent
    from ncp_control.agents.model_state import is_state_folder, read_state_meta, restore_state, save_state

    model = build_agent(RL_AGENT, RL_ENV, seed, "none")
    meta = {"env_id": RL_ENV, "agent": RL_AGENT, "steps": steps, "seed": seed}
    if folder and is_state_folder(folder):
        stored = read_state_meta(folder)["meta"]
        if stored != meta:
            raise UserError(f"--rl-model {folder} holds {stored}, not {meta}: pass another folder")
        print(f"\nUsed in RL: policy loaded from {folder} ({meta})")
        return restore_state(model, folder)
    start = CLOCK()
    model.learn(steps)
    print(f"\nUsed in RL: {RL_AGENT} trained on {RL_ENV}, {steps} steps, seed {seed}, "
          f"{CLOCK() - start:.0f} CPU s")
    if folder:
        save_state(model, folder, meta)
    return model


def rl_returns(
    model: Any, seeds: list[int], held_out: Any, corrections: dict[str, HyperCorrection]
) -> list[dict[str, Any]]:
    """For each actor solver of :data:`RL_SETTINGS`: the actor's RMS state error on the inputs
    ``held_out`` (recorded at semi-implicit-6) against RK4-64 and against semi-implicit-6, and
    the policy's return on the same seeded deterministic episodes (the actor back on
    semi-implicit-6 afterwards)."""
    from ncp_control.agents.common.env_util import make_env
    from ncp_control.agents.common.eval_policies import ModelPolicy
    from ncp_control.agents.common.evaluation import run_episodes
    from ncp_control.agents.hypersolver import actor_network

    actor = actor_network(model)
    x, ts = held_out.features, held_out.timespans
    references = {"rk4": reference_states(actor, x, ts), "semi6": solver_states(actor, x, ts, "semi_implicit", 6)}
    rows = []
    for solver, unfolds, fitted_to in RL_SETTINGS:
        if fitted_to is not None:
            solver_cell(actor).hypersolver = corrections[fitted_to]
        use_solver(actor, solver, unfolds)
        states = solver_states(actor, x, ts, solver, unfolds)
        errors = {name: rms(states, ref) for name, ref in references.items()}
        times = []
        for _ in range(REPEATS):  # deterministic: the same episodes each time
            start = CLOCK()
            episodes = run_episodes(ModelPolicy(model), lambda: make_env(RL_ENV), seeds)
            times.append(CLOCK() - start)
        seconds = min(times)
        returns = [e["return"] for e in episodes]
        steps = max(e["length"] for e in episodes)  # lock-step: one batched action per step
        rows.append({"solver": solver, "unfolds": unfolds, "fitted_to": fitted_to or "-", **errors,
                     "mean": sum(returns) / len(returns), "min": min(returns), "ms": 1e3 * seconds / steps})
    use_solver(actor, "semi_implicit", 6)
    return rows


def used_in_rl(folder: str | None, steps: int, seed: int, episodes: int, fit_episodes: int, iterations: int) -> None:
    """Part 4: hypersolvers fitted on a trained policy's own episodes; its actor's trajectory
    error with each solver, and its return."""
    from ncp_control.agents.common.env_util import make_env
    from ncp_control.agents.hypersolver import actor_network, fit_actor_hypersolver, record_actor_inputs

    model = trained_policy(folder, steps, seed)
    actor = actor_network(model)
    fit_inputs = record_actor_inputs(model, lambda: make_env(RL_ENV), range(2000, 2000 + fit_episodes))
    held_out = record_actor_inputs(model, lambda: make_env(RL_ENV), range(1000, 1000 + episodes))
    corrections: dict[str, HyperCorrection] = {}
    for name, reference in RL_REFERENCES.items():
        start = CLOCK()
        report = fit_actor_hypersolver(model, fit_inputs, "hyper_semi_implicit", (1, 2), iterations=iterations,
                                       lr=1e-2, reference=reference)
        print(f"hyper_semi_implicit fitted to {name} on {fit_episodes} episodes x {fit_inputs.features.shape[1]} "
              f"steps: local error {report.local_error_base:.2e} -> {report.local_error_fitted:.2e}, "
              f"{CLOCK() - start:.0f} CPU s")
        corrections[name] = solver_cell(actor).hypersolver
    timespans = held_out.timespans
    dt: float | torch.Tensor = float(timespans[0, 0]) if bool((timespans == timespans[0, 0]).all()) else timespans
    rows = accuracy_table(actor, held_out.features, dt, {"hyper_semi_implicit": corrections["rk4-64"]})
    print_table(rows, f"Accuracy vs cost, trained LTC (actor of the policy; hypersolver fitted to rk4-64), "
                f"{episodes} of its episodes x {held_out.features.shape[1]} steps, error against RK4 at 64 steps")
    target(rows)
    results = rl_returns(model, list(range(1000, 1000 + episodes)), held_out, corrections)
    print(f"\nThe trained policy with its actor on each solver: RMS state error on the inputs of its own "
          f"{episodes} episodes (seeds 1000-{999 + episodes}) against RK4-64 and semi_implicit-6, and the return "
          "of the same seeded deterministic episodes (ms/step: one batched action, env steps included)")
    print(f"{'actor solver':<22}{'unfolds':>8}{'fitted to':>17}{'vs rk4':>10}{'vs semi6':>10}"
          f"{'mean return':>13}{'min':>8}{'ms/step':>9}")
    for r in results:
        print(f"{r['solver']:<22}{r['unfolds']:>8}{r['fitted_to']:>17}{r['rk4']:>10.2e}{r['semi6']:>10.2e}"
              f"{r['mean']:>13.1f}{r['min']:>8.1f}{r['ms']:>9.2f}")


def check_arguments(args: argparse.Namespace) -> None:
    """One clear error for a value out of range, or an option of a part that does not run.

    :param args: the parsed command line.
    :raises UserError: naming the option.
    """
    if args.lengths is not None and min(args.lengths) < 1:
        raise UserError(f"--lengths must all be >= 1, got {args.lengths}")
    if args.dopri5_bptt_max is not None and args.dopri5_bptt_max < 1:
        raise UserError(f"--dopri5-bptt-max must be >= 1, got {args.dopri5_bptt_max}")
    if args.rl_steps is not None and args.rl_steps < 1:
        raise UserError(f"--rl-steps must be >= 1, got {args.rl_steps}")
    owners = {"bptt": ("plot", "lengths", "dopri5_bptt_max"), "rl": ("rl_model", "rl_steps", "rl_seed")}
    for part, options in owners.items():
        for option in options:
            if part not in args.parts and getattr(args, option) is not None:
                flag = "--" + option.replace("_", "-")
                raise UserError(f"{flag} is an option of the {part} part: add {part} to --parts or leave {flag} out")


def main(argv: list[str] | None = None) -> int:
    """:param argv: command-line arguments.
    :return: exit status 0."""
    parser = argparse.ArgumentParser(prog="ncp-control bench solvers", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny version (seconds): small data and fit, two lengths")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=["accuracy", "bptt"],
                        help="what to measure: accuracy (and the stiff regime), bptt (against the adjoint), "
                        "rl (a trained policy on the hypersolver; trains one unless --rl-model holds it)")
    parser.add_argument("--plot", default=None, help="file for the memory-against-length plot (PNG)")
    parser.add_argument("--lengths", type=int, nargs="+", default=None, help="sequence lengths for BPTT vs adjoint")
    parser.add_argument("--dopri5-bptt-max", type=int, default=None,
                        help="longest sequence at which dopri5 runs with BPTT (default 1024)")
    parser.add_argument("--rl-model", default=None, help="folder of the trained policy: loaded if there, else saved there")
    parser.add_argument("--rl-steps", type=int, default=None, help="training steps of the policy (default 100000)")
    parser.add_argument("--rl-seed", type=int, default=None, help="training seed of the policy (default 1)")
    args = parser.parse_args(argv)
    check_arguments(args)
    torch.set_num_threads(1)
    batch, steps, fit_batch, iterations = (2, 10, 4, 100) if args.quick else (16, 100, 32, 1500)
    lengths = args.lengths or ([16, 32] if args.quick else [128, 512, 1024])
    if "accuracy" in args.parts:
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
            stiff = [r for r in accuracy_table(model, smooth_inputs(2, batch, steps), dt, corrections)
                     if r["unfolds"] in (1, 6)]
            print_table(stiff, f"Stiff regime: timespan {dt:g} (hypersolvers fitted at timespan 1)")
    if "bptt" in args.parts:
        bptt_vs_adjoint(lengths, args.plot, 1024 if args.dopri5_bptt_max is None else args.dopri5_bptt_max)
    if "rl" in args.parts:
        rl_steps = args.rl_steps or (256 if args.quick else 100_000)
        episodes, fit_episodes = (2, 2) if args.quick else (20, 16)
        rl_seed = 1 if args.rl_seed is None else args.rl_seed
        used_in_rl(args.rl_model, rl_steps, rl_seed, episodes, fit_episodes, iterations)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
