"""``ncp-control demo``: build an AutoNCP-wired CfC, run it over a random sequence, print its wiring."""

from __future__ import annotations

import argparse

import torch

from ncp_control import CfC
from ncp_control.wirings import AutoNCP


def run(args: argparse.Namespace) -> int:
    """Build the network, run one sequence, print the wiring summary and output shape.

    :param args: parsed arguments (``units``, ``outputs``, ``inputs``, ``steps``, ``batch``, ``seed``).
    :return: exit status 0.
    """
    torch.manual_seed(args.seed)
    wiring = AutoNCP(args.units, args.outputs, seed=args.seed, input_size=args.inputs)
    model = CfC(args.inputs, wiring)
    x = torch.randn(args.batch, args.steps, args.inputs)
    timespans = 0.5 + torch.rand(args.batch, args.steps)
    with torch.no_grad():
        y, h = model(x, timespans=timespans)
    print(wiring.summary())
    print(f"CfC parameters: {sum(p.numel() for p in model.parameters() if p.requires_grad)}")
    print(f"input {tuple(x.shape)} -> output {tuple(y.shape)}, final state {tuple(h.shape)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser(
        "demo", help="build an NCP-wired CfC, run it over a random sequence, print its wiring"
    )
    parser.add_argument("--units", type=int, default=32, help="neurons of the AutoNCP wiring (default 32)")
    parser.add_argument("--outputs", type=int, default=4, help="motor neurons (default 4)")
    parser.add_argument("--inputs", type=int, default=17, help="input features (default 17)")
    parser.add_argument("--steps", type=int, default=50, help="sequence length (default 50)")
    parser.add_argument("--batch", type=int, default=8, help="batch size (default 8)")
    parser.add_argument("--seed", type=int, default=22222, help="seed of wiring and weights (default 22222)")
    parser.set_defaults(func=run)
