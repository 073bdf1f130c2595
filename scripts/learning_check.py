"""Full learning check of the tuned LiquidPPO recipes (too long for CI; results go in README).

Trains every (task, policy) of ``agents.learning.THRESHOLDS`` (or those selected) for its
budget with several seeds, evaluates each seed deterministically and compares the median
over seeds to the threshold. Exit status 1 if a check fails.

``python -m scripts.learning_check [--only CfCPolicy] [--seeds 0 1 2] [--jobs 2]``
"""

from __future__ import annotations

import argparse


def selected(env_id: str, policy: str, only: list[str] | None) -> bool:
    """:return: whether a check matches ``--only`` (env ids and policy aliases, each kind optional)."""
    if not only:
        return True
    envs_given = [t for t in only if "-v" in t]
    policies_given = [t for t in only if "-v" not in t]
    return (not envs_given or env_id in envs_given) and (not policies_given or policy in policies_given)


def main(argv: list[str] | None = None) -> int:
    """:param argv: command-line arguments (see ``--help``). :return: 0 if every check passed."""
    from agents.learning import THRESHOLDS, run_seeds, summary

    parser = argparse.ArgumentParser(prog="learning_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="env ids or policy aliases to run (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="training seeds")
    parser.add_argument("--jobs", type=int, default=1, help="seeds trained in parallel processes")
    parser.add_argument("--eval-episodes", type=int, default=20, help="evaluation episodes per seed")
    args = parser.parse_args(argv)
    failed = 0
    for (env_id, policy), (threshold, budget) in THRESHOLDS.items():
        if not selected(env_id, policy, args.only):
            continue
        results = run_seeds(env_id, policy, args.seeds, budget, args.eval_episodes, args.jobs)
        info = summary(results, threshold)
        failed += not info["passed"]
        print(f"{env_id} {policy}: median {info['median']:.1f} (threshold {threshold}, {budget} steps), "
              f"seeds {info['returns']}, {info['seconds']} s training, {'PASS' if info['passed'] else 'FAIL'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
