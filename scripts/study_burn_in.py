"""How stale LiquidSAC's stored states get, and how much a burn-in removes.

Trains LiquidSAC on a task for ``--steps`` (the zoo's SAC recipe where the package has one),
then measures, over the whole episodes in its replay buffer, the error of the stored states
warmed up by each burn-in length against the states the trained networks reach from each
episode's start (:func:`ncp_control.agents.burn_in.stale_state_errors`), and prints a table.
Each measurement is appended to ``--results`` (JSON lines).

``python -m ncp_control.cli.study_burn_in [--env ID] [--policy CfCPolicy] [--steps 10000] [--seed 101]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ncp_control.cli.study_burn_in", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="NCPControl/PendulumNoVel-v1", help="task with a zoo SAC recipe")
    parser.add_argument("--policy", default="CfCPolicy", help="LiquidSAC policy alias")
    parser.add_argument("--steps", type=int, default=10_000, help="training steps before the measurement")
    parser.add_argument("--seed", type=int, default=101, help="training seed")
    parser.add_argument("--burn-ins", type=int, nargs="+", default=[0, 1, 2, 4, 8, 16], help="burn-in lengths")
    parser.add_argument("--results", default=None, help="JSON-lines file to append the measurement to")
    return parser


def main(argv: list[str] | None = None) -> int:
    """:param argv: arguments (see ``--help``). :return: 0."""
    args = _parser().parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from ncp_control.agents.benchmark import build_agent
    from ncp_control.agents.burn_in import stale_state_errors

    model = build_agent(f"LiquidSAC:{args.policy}", args.env, args.seed, "zoo")
    model.learn(args.steps)
    errors = stale_state_errors(model, tuple(args.burn_ins))
    print(f"{args.env}, LiquidSAC {args.policy}, seed {args.seed}, after {args.steps} steps: stored states "
          "warmed up by k entries against the trained networks' own states")
    print("| burn-in | actor state (relative) | critic state (relative) | action | Q value | Q scale |")
    print("|---|---|---|---|---|---|")
    for k, row in errors.items():
        print(f"| {k} | {row['actor_state']:.3f} | {row['critic_state']:.3f} | {row['action']:.3f} | {row['q']:.2f} | "
              f"{row['q_scale']:.1f} |")
    if args.results:
        record = {"env_id": args.env, "policy": args.policy, "seed": args.seed, "steps": args.steps,
                  "errors": {str(k): row for k, row in errors.items()}}
        with Path(args.results).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
