"""``ncp-control inspect``: summary, neuron traces and trained wiring of a policy or model;
``ncp-control inspect expressivity``: the trajectory-length comparison of the LTC paper."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
from ncp_control.agents.progress import EpisodeProgress, Progress
from ncp_control.cli.commands import add_trust_pickle

from ncp_control.errors import UserError


def _expressivity(args: argparse.Namespace) -> int:
    from ncp_control.analysis import compare, format_table, plot_expressivity

    kinds = tuple(args.networks)
    rows = compare(kinds=kinds, widths=tuple(args.widths), depth=args.depth, seeds=tuple(args.seeds), steps=args.steps)
    print(f"trajectory length (median over seeds {list(args.seeds)}; w = width, d = layer; "
          f"{args.steps} samples per loop, last of 2 loops, sigma_w = 2, sigma_b = 1)")
    print(format_table(rows))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = plot_expressivity(rows, str(out / "expressivity.png"), steps=args.steps)
    print(f"wrote {path}")
    return 0


def _draw_wiring(network: Any, path: Path, input_names: list[str] | None, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ncp_control.analysis import draw_trained_wiring, wiring_of

    wiring = wiring_of(network)
    tallest = max([network.input_size, *(len(layer) for layer in wiring.layers)]) if wiring is not None else 10
    fig, ax = plt.subplots(figsize=(8, max(5.0, 0.16 * tallest + 2.5)))
    handles = draw_trained_wiring(network, ax=ax, input_names=input_names)
    ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=3, frameon=False)
    ax.set_title(f"{title} trained synapses, sensory -> motor (width: strength, colour: sign)".strip(), fontsize=10)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def _open(target: Path, trust_pickle: bool) -> tuple[Any, Any, dict[str, Any]]:
    """A plain ncp_control model folder, or a policy (weights folder, run folder, model zip)."""
    from ncp_control.export.weights import CONFIG_FILE, MODEL_FILE, load_model

    folder = target.parent if target.is_file() and target.name == MODEL_FILE else target
    if (folder / MODEL_FILE).is_file() and (folder / CONFIG_FILE).is_file():
        return load_model(folder), None, {}
    from ncp_control.agents.export import open_policy

    module, _, info = open_policy(target, trust_pickle=trust_pickle)
    return module.network, module, info


def _inspect(args: argparse.Namespace) -> int:
    from ncp_control.analysis import format_summary, plot_pca, plot_traces, summarize, wiring_of
    from ncp_control.sequence import LiquidRNN

    target = Path(args.target)
    if not target.exists():
        raise FileNotFoundError(f"no run folder, policy or model at {target}")
    network, module, info = _open(target, args.trust_pickle)
    out = Path(args.out) if args.out else (target if target.is_dir() else target.parent) / "inspect"
    out.mkdir(parents=True, exist_ok=True)
    if not isinstance(network, LiquidRNN):
        count = sum(p.numel() for p in (module or network).parameters())
        print(f"{type(network).__name__} actor (not a liquid network): {count} parameters")
        return 0
    others = {} if module is None else {"features extractor": module.preprocess, "action head": module.head}
    print(format_summary(summarize(network, others)))
    traces = None
    if module is not None:
        from ncp_control.agents.export import record_episode

        env_id = args.env or info.get("env_id")
        if env_id is None:
            raise UserError("the environment is unknown: pass --env ENV_ID")
        env_kwargs = info.get("env_kwargs") if env_id == info.get("env_id") else None
        with Progress(args.steps, "steps", f"episode on {env_id}", enabled=not args.no_progress, leave=False) as bar:
            traces, total = record_episode(module, env_id, seed=args.seed, max_steps=args.steps, env_kwargs=env_kwargs,
                                           watch=EpisodeProgress(bar, per_step=True))
        title = f"{env_id}, seed {args.seed}:"
        plot_traces(traces, str(out / "traces.png"), title=title)
        plot_pca(traces, str(out / "pca.png"), title=title)
        shares = ", ".join(f"{g} {100 * traces.pc1_share(g):.0f}%" for g in ("sensory", *traces.groups))
        print(f"episode on {env_id} (seed {args.seed}): {traces.states.shape[0]} steps, return {total:.1f}")
        print(f"PC1 share of neuron activity: all neurons {100 * traces.pc1_share():.0f}% ({shares})")
        print(f"wrote {out / 'traces.png'} (activity over time) and {out / 'pca.png'} (its trajectory in 2-D and 3-D)")
    if wiring_of(network) is not None:
        _draw_wiring(network, out / "wiring.png", traces.input_names if traces is not None else None,
                     f"{info.get('env_id') or ''}".strip())
        print(f"wrote {out / 'wiring.png'}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch ``inspect expressivity`` or ``inspect TARGET``.

    :param args: parsed arguments.
    :return: exit status.
    """
    torch.set_num_threads(1)
    if args.target == "expressivity":
        return _expressivity(args)
    return _inspect(args)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser(
        "inspect",
        help="summary, neuron traces and wiring of a policy (RUN_DIR|MODEL), or `inspect expressivity`",
        description="Inspect a trained policy (run folder, weights-only folder, model zip) or a saved ncp_control "
        "model: print neurons, synapses, parameters per layer and sparsity; write wiring.png (trained synapses, "
        "in layers from sensory to motor), traces.png (neuron activity over one episode, PC1 share) and pca.png "
        "(that activity's trajectory in its principal components). `inspect expressivity` measures the "
        "trajectory length of random LTC, CfC, CT-RNN, LSTM and MLP networks.",
    )
    parser.add_argument("target", help="RUN_DIR, weights folder, model zip, ncp_control model folder, or 'expressivity'")
    parser.add_argument("--out", default=None, help="folder for the PNGs (default: TARGET/inspect, or ./inspect)")
    parser.add_argument("--env", default=None, help="environment of the episode (default: the run's)")
    parser.add_argument("--seed", type=int, default=0, help="episode seed (default 0)")
    parser.add_argument("--steps", type=int, default=None,
                        help="episode step limit (default 1000) / expressivity samples per loop (default 200)")
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 32, 64], help="expressivity widths")
    parser.add_argument("--depth", type=int, default=3, help="expressivity: layers (default 3)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="expressivity seeds")
    parser.add_argument("--networks", nargs="+", default=["ltc", "cfc", "ctrnn", "lstm", "mlp"],
                        help="expressivity networks")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_trust_pickle(parser)
    parser.set_defaults(func=_run_with_defaults)


def _run_with_defaults(args: argparse.Namespace) -> int:
    if args.steps is None:
        args.steps = 200 if args.target == "expressivity" else 1000
    if args.target == "expressivity" and args.out is None:
        args.out = "inspect"
    if args.steps < 2:
        raise UserError(f"--steps must be >= 2, got {args.steps}")
    return run(args)
