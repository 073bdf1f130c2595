"""Side-by-side learning benchmark: LiquidPPO against its anchors on the anchors' own recipes.

Every agent of one comparison trains with the same rl-baselines3-zoo recipe (the anchor's
published one, :data:`ZOO_RECIPES`), the same budget and the same seeds, with the zoo's
``VecNormalize`` (observations and rewards) or without any normalisation, and is evaluated
deterministically on separately seeded envs (``1000 + seed``). Each finished run is one JSON
line appended to a results file, so that a long benchmark resumes where it stopped; a long run
also writes checkpoints of its own (:mod:`ncp_control.agents.benchmark_resume`) and resumes part-way.

Agents are named ``ALGO:POLICY``:

- ``LiquidPPO:CfCPolicy`` (and every other alias of :class:`ncp_control.agents.LiquidPPO`), with the
  policy's default ``policy_kwargs`` and the recipe's exploration arguments (:data:`EXPLORATION_KWARGS`);
- ``RecurrentPPO:MlpLstmPolicy``: sb3-contrib's RecurrentPPO with the zoo's policy arguments;
- ``RecurrentPPO:RecurrentCfCPolicy``: the same algorithm with our CfC through the adapter;
- ``PPO:MlpPolicy``: SB3's PPO with the zoo's policy arguments (feed-forward anchor);
- ``LiquidSAC:CfCPolicy`` (and every other alias of :class:`ncp_control.agents.LiquidSAC`) and
  ``SAC:MlpPolicy`` (SB3's SAC): the off-policy agents, trained on the zoo's SAC recipes
  (:data:`SAC_RECIPES`);
- ``LiquidTD3:CfCPolicy`` (and every other alias of :class:`ncp_control.agents.LiquidTD3`) and
  ``TD3:MlpPolicy`` (SB3's TD3), trained on the zoo's TD3 recipes (:data:`TD3_RECIPES`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ncp_control.errors import UserError

#: The algorithms an agent name may start with.
ALGORITHMS = ("LiquidPPO", "RecurrentPPO", "PPO", "LiquidSAC", "SAC", "LiquidTD3", "TD3")
#: The off-policy algorithms: they train on :data:`SAC_RECIPES` (SAC) or :data:`TD3_RECIPES` (TD3).
OFF_POLICY = ("LiquidSAC", "SAC", "LiquidTD3", "TD3")
#: Normalisation modes: the zoo's VecNormalize (observations and rewards) or none.
NORMALIZE = ("zoo", "none")


@dataclass(frozen=True)
class ZooRecipe:
    """One rl-baselines3-zoo recipe, as published for the anchor algorithm.

    :param n_envs: parallel envs.
    :param n_timesteps: the zoo's budget.
    :param algo_kwargs: the algorithm's arguments (``lin_X``: linear decay from X).
    :param anchor_policy_kwargs: the zoo's ``policy_kwargs`` for the anchor's own policy
        (activation functions by their ``torch.nn`` name).
    :param threshold: the return that counts as solved (for time-to-threshold), or None.
    :param vec_normalize: the zoo wraps the envs in its ``VecNormalize`` (what ``normalize="zoo"``
        then means; the zoo's SAC recipes normalise nothing).
    """

    n_envs: int
    n_timesteps: int
    algo_kwargs: dict[str, Any]
    anchor_policy_kwargs: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None
    vec_normalize: bool = True


_RECURRENT_ZOO_KWARGS = {
    "ortho_init": False,
    "activation_fn": "ReLU",
    "lstm_hidden_size": 64,
    "enable_critic_lstm": True,
    "net_arch": {"pi": [64], "vf": [64]},
}

_CARTPOLE_NOVEL = ZooRecipe(
    n_envs=8,
    n_timesteps=100_000,
    algo_kwargs={"n_steps": 32, "batch_size": 256, "n_epochs": 20, "gamma": 0.98, "gae_lambda": 0.8,
                 "learning_rate": "lin_1e-3", "clip_range": "lin_0.2", "ent_coef": 0.0},
    anchor_policy_kwargs=_RECURRENT_ZOO_KWARGS,
    threshold=475.0,
)

#: rl-baselines3-zoo recipes (hyperparams/ppo_lstm.yml; HalfCheetah from ppo.yml).
ZOO_RECIPES: dict[str, ZooRecipe] = {
    "NCPControl/CartPoleNoVel-v1": _CARTPOLE_NOVEL,
    # the same task in other units (observations x 1000, 100 per step): its recipe, its threshold x 100
    "NCPControl/CartPoleNoVelRescaled-v1": replace(_CARTPOLE_NOVEL, threshold=47_500.0),
    "NCPControl/PendulumNoVel-v1": ZooRecipe(
        n_envs=4,
        n_timesteps=100_000,
        algo_kwargs={"n_steps": 1024, "batch_size": 128, "n_epochs": 10, "gamma": 0.9, "gae_lambda": 0.95,
                     "learning_rate": 1e-3, "clip_range": 0.2, "ent_coef": 0.0, "use_sde": True, "sde_sample_freq": 4},
        anchor_policy_kwargs=_RECURRENT_ZOO_KWARGS,
        threshold=-250.0,
    ),
    "HalfCheetah-v5": ZooRecipe(
        n_envs=1,
        n_timesteps=1_000_000,
        algo_kwargs={"n_steps": 512, "batch_size": 64, "n_epochs": 20, "gamma": 0.98, "gae_lambda": 0.92,
                     "learning_rate": 2.0633e-05, "clip_range": 0.1, "ent_coef": 0.000401762, "max_grad_norm": 0.8,
                     "vf_coef": 0.58096},
        anchor_policy_kwargs={"log_std_init": -2, "ortho_init": False, "activation_fn": "ReLU",
                              "net_arch": {"pi": [256, 256], "vf": [256, 256]}},
    ),
}


_SAC_PENDULUM = ZooRecipe(n_envs=1, n_timesteps=50_000, algo_kwargs={"learning_rate": 1e-3}, threshold=-250.0,
                          vec_normalize=False)
_SAC_HALFCHEETAH = ZooRecipe(n_envs=1, n_timesteps=1_000_000, algo_kwargs={"learning_starts": 10_000},
                             vec_normalize=False)

#: rl-baselines3-zoo SAC recipes (hyperparams/sac.yml), for LiquidSAC and SB3's SAC. The zoo
#: trains Pendulum-v1 for 20k steps; its task without velocities gets 50k with the same recipe.
SAC_RECIPES: dict[str, ZooRecipe] = {
    "Pendulum-v1": replace(_SAC_PENDULUM, n_timesteps=20_000),
    "NCPControl/PendulumNoVel-v1": _SAC_PENDULUM,
    "HalfCheetah-v5": _SAC_HALFCHEETAH,
    "NCPControl/HalfCheetahNoVel-v5": _SAC_HALFCHEETAH,
}


_TD3_PENDULUM = ZooRecipe(
    n_envs=1, n_timesteps=50_000,
    algo_kwargs={"gamma": 0.98, "buffer_size": 200_000, "learning_starts": 10_000, "noise_type": "normal",
                 "noise_std": 0.1, "learning_rate": 1e-3},
    anchor_policy_kwargs={"net_arch": [400, 300]}, threshold=-250.0, vec_normalize=False,
)

#: rl-baselines3-zoo TD3 recipes (hyperparams/td3.yml), for LiquidTD3 and SB3's TD3; Pendulum as
#: in :data:`SAC_RECIPES` (the zoo's 20k steps, 50k without velocities).
TD3_RECIPES: dict[str, ZooRecipe] = {
    "Pendulum-v1": replace(_TD3_PENDULUM, n_timesteps=20_000),
    "NCPControl/PendulumNoVel-v1": _TD3_PENDULUM,
}


def recipe_of(env_id: str, algo: str = "LiquidPPO") -> ZooRecipe:
    """:param env_id: the task. :param algo: the algorithm (off-policy ones read :data:`SAC_RECIPES`
        or :data:`TD3_RECIPES`).
    :return: the zoo recipe of a task. :raises UserError: for a task without one."""
    kind, table = ("TD3 recipe", TD3_RECIPES) if algo in ("LiquidTD3", "TD3") else \
        ("SAC recipe", SAC_RECIPES) if algo in OFF_POLICY else ("zoo recipe", ZOO_RECIPES)
    if env_id not in table:
        hint = f" (did you mean 'NCPControl/{env_id}'?)" if f"NCPControl/{env_id}" in table else ""
        raise UserError(f"no {kind} for {env_id!r}{hint}; choose one of {sorted(table)}")
    return table[env_id]


def parse_agent(agent: str) -> tuple[str, str]:
    """:param agent: ``"ALGO:POLICY"``. :return: ``(algo, policy)``. :raises ValueError: for a bad name."""
    from ncp_control.agents.policies import POLICY_ALIASES
    from ncp_control.agents.sac_policy import SAC_POLICY_ALIASES
    from ncp_control.agents.td3_policy import TD3_POLICY_ALIASES

    algo, _, policy = agent.partition(":")
    allowed = {
        "LiquidPPO": tuple(POLICY_ALIASES),
        "RecurrentPPO": ("MlpLstmPolicy", "RecurrentCfCPolicy"),
        "PPO": ("MlpPolicy",),
        "LiquidSAC": tuple(SAC_POLICY_ALIASES),
        "SAC": ("MlpPolicy",),
        "LiquidTD3": tuple(TD3_POLICY_ALIASES),
        "TD3": ("MlpPolicy",),
    }
    if algo not in allowed or policy not in allowed[algo]:
        names = [f"{a}:{p}" for a, ps in allowed.items() for p in ps]
        raise UserError(f"agent must be one of {names}, got {agent!r}")
    return algo, policy


def _algo_kwargs(recipe: ZooRecipe, algo: str) -> dict[str, Any]:
    from ncp_control.agents.runs import schedule_from

    kwargs = {key: schedule_from(value) for key, value in recipe.algo_kwargs.items()}
    if algo == "LiquidPPO":
        kwargs["seq_len"] = min(32, kwargs["n_steps"])
    return kwargs


def _anchor_policy_kwargs(recipe: ZooRecipe) -> dict[str, Any]:
    from ncp_control.agents.policy_kwargs import resolve_policy_kwargs

    return resolve_policy_kwargs(recipe.anchor_policy_kwargs)


#: The recipe's policy arguments that are about exploration, not the anchor's network: every
#: agent of a comparison gets them (the zoo's HalfCheetah recipe starts its noise at log-std -2).
EXPLORATION_KWARGS = ("log_std_init",)


def _exploration_kwargs(recipe: ZooRecipe) -> dict[str, Any]:
    return {key: recipe.anchor_policy_kwargs[key] for key in EXPLORATION_KWARGS if key in recipe.anchor_policy_kwargs}


def make_envs(env_id: str, n_envs: int, seed: int, normalize: str, gamma: float, vec_normalize: bool = True) -> Any:
    """The training VecEnv of one run.

    :param env_id: the task.
    :param n_envs: parallel envs.
    :param seed: seed of the envs.
    :param normalize: ``"zoo"`` (VecNormalize of observations and rewards) or ``"none"``.
    :param gamma: the discount of the reward normaliser.
    :param vec_normalize: whether the recipe normalises at all (``"zoo"`` is then ``"none"``).
    :return: the VecEnv.
    """
    import ncp_control.envs  # noqa: F401  (registers the NCPControl/ ids)
    from ncp_control.agents.recipes import normalize_options, training_env

    if normalize not in NORMALIZE:
        raise UserError(f"normalize must be one of {NORMALIZE}, got {normalize!r}")
    options = normalize_options(True, gamma) if normalize == "zoo" and vec_normalize else None
    return training_env(env_id, n_envs, seed, normalize=options)


def build_agent(agent: str, env_id: str, seed: int, normalize: str, implementation: str | None = None) -> Any:
    """One model of the benchmark, on its training envs.

    :param agent: ``"ALGO:POLICY"`` (see the module docstring).
    :param env_id: the task (a key of :data:`ZOO_RECIPES`).
    :param seed: training seed.
    :param normalize: ``"zoo"`` or ``"none"``.
    :param implementation: liquid cells' implementation (``"fast"``, ``"reference"``), or None
        for the default.
    :return: the model.
    """
    from ncp_control.agents.recipes import with_action_noise

    algo, policy = parse_agent(agent)
    recipe = recipe_of(env_id, algo)
    kwargs = _algo_kwargs(recipe, algo)
    env = make_envs(env_id, recipe.n_envs, seed, normalize, float(kwargs.get("gamma", 0.99)), recipe.vec_normalize)
    kwargs = with_action_noise(kwargs, env.action_space)  # the TD3 recipes' exploration noise
    cell_kwargs = {"cell_kwargs": {"implementation": implementation}} if implementation else {}
    liquid_kwargs = {**cell_kwargs, **_exploration_kwargs(recipe)}  # our liquid networks, in either algorithm
    from ncp_control.agents.sequence import LIQUID_NETWORKS

    if algo == "LiquidPPO":
        from ncp_control.agents.policies import POLICY_ALIASES
        from ncp_control.agents.ppo import LiquidPPO

        network = POLICY_ALIASES[policy].network  # type: ignore[attr-defined]
        policy_kwargs = liquid_kwargs if network in LIQUID_NETWORKS else _exploration_kwargs(recipe)
        return LiquidPPO(policy, env, seed=seed, policy_kwargs=policy_kwargs, **kwargs)
    if algo == "LiquidSAC":
        from ncp_control.agents.sac import LiquidSAC
        from ncp_control.agents.sac_policy import SAC_POLICY_ALIASES

        network = SAC_POLICY_ALIASES[policy].network  # type: ignore[attr-defined]
        return LiquidSAC(policy, env, seed=seed, policy_kwargs=cell_kwargs if network in LIQUID_NETWORKS else {}, **kwargs)
    if algo == "LiquidTD3":
        from ncp_control.agents.td3 import LiquidTD3
        from ncp_control.agents.td3_policy import TD3_POLICY_ALIASES

        network = TD3_POLICY_ALIASES[policy].network  # type: ignore[attr-defined]
        return LiquidTD3(policy, env, seed=seed, policy_kwargs=cell_kwargs if network in LIQUID_NETWORKS else {}, **kwargs)
    if algo == "SAC":
        from stable_baselines3 import SAC

        return SAC(policy, env, seed=seed, **kwargs)
    if algo == "TD3":
        from stable_baselines3 import TD3

        return TD3(policy, env, seed=seed, policy_kwargs=_anchor_policy_kwargs(recipe), **kwargs)
    if algo == "RecurrentPPO":
        from sb3_contrib import RecurrentPPO

        if policy == "RecurrentCfCPolicy":
            from ncp_control.agents.recurrent_ppo import RecurrentCfCPolicy

            return RecurrentPPO(RecurrentCfCPolicy, env, seed=seed, policy_kwargs=liquid_kwargs, **kwargs)
        return RecurrentPPO(policy, env, seed=seed, policy_kwargs=_anchor_policy_kwargs(recipe), **kwargs)
    from stable_baselines3 import PPO

    return PPO(policy, env, seed=seed, policy_kwargs=_anchor_policy_kwargs(recipe), **kwargs)


def evaluate(model: Any, env_id: str, seed: int, episodes: int, n_envs: int = 1) -> float:
    """Mean return of deterministic episodes on a separately seeded env (``1000 + seed``),
    observations normalised with the training statistics when the model trained with them.

    :param n_envs: envs stepped together (seeded ``1000 + seed + i``, the episodes shared out
        among them): faster, and other episodes than the benchmark's one env plays in turn.
    :return: the mean episode return (raw rewards).
    """
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecNormalize

    env: Any = make_vec_env(env_id, n_envs=n_envs, seed=1000 + seed)
    train_env = model.get_env()
    if isinstance(train_env, VecNormalize):
        env = VecNormalize(env, training=False, norm_obs=train_env.norm_obs, norm_reward=False, gamma=train_env.gamma)
        env.obs_rms = train_env.obs_rms
    mean, _ = evaluate_policy(model, env, n_eval_episodes=episodes, deterministic=True)
    return float(mean)  # type: ignore[arg-type]


@dataclass
class RunKey:
    """What identifies one run in a results file."""

    env_id: str
    agent: str
    normalize: str
    seed: int
    steps: int
    implementation: str

    def as_dict(self) -> dict[str, Any]:
        """:return: the key's fields."""
        return dict(self.__dict__)

    def as_tuple(self) -> tuple[Any, ...]:
        """:return: the key's fields in order, as :func:`done_keys` gives them."""
        return tuple(self.__dict__.values())


def run_label(run: dict[str, Any]) -> str:
    """:param run: a :class:`RunKey` as a dict, or a results record.
    :return: how progress lines name the run: ``"AGENT norm=NORMALIZE seed SEED"``."""
    return f"{run['agent']} norm={run['normalize']} seed {run['seed']}"


def train_and_measure(key: RunKey, eval_episodes: int = 20, eval_every: int = 0,
                      clock: Callable[[], float] = time.perf_counter,
                      checkpoints: str | os.PathLike[str] | None = None, checkpoint_every: int = 0,
                      eval_envs: int = 1, report: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train one agent for ``key.steps`` and evaluate it; resume it from its checkpoint if it has one.

    :param key: the run.
    :param eval_episodes: deterministic episodes of each evaluation.
    :param eval_every: also evaluate every this many env steps (0: only at the end), to find
        when the return first reaches the recipe's threshold; evaluation time is not counted.
    :param clock: time source.
    :param checkpoints: folder of the benchmark's checkpoints (None: none; see
        :mod:`ncp_control.agents.benchmark_resume`); the run goes on from its own checkpoint there.
    :param checkpoint_every: env steps between checkpoints (0: none); their time is not counted.
    :param eval_envs: envs each evaluation steps together (:func:`evaluate`; the benchmark: 1).
    :param report: called with one line on resuming and after each evaluation and each checkpoint,
        so that a run of hours says how far it has come (None: silent).
    :return: the key's fields plus ``mean_return``, ``train_seconds``, ``curve``
        (``[[steps, seconds, return], ...]``) and ``seconds_to_threshold`` (None if never).
    """
    import torch
    from ncp_control.agents.benchmark_resume import RunCheckpoints, RunProgress
    from stable_baselines3.common.callbacks import BaseCallback

    torch.set_num_threads(1)
    implementation = key.implementation if key.implementation != "default" else None
    model = build_agent(key.agent, key.env_id, key.seed, key.normalize, implementation)
    threshold = recipe_of(key.env_id, parse_agent(key.agent)[0]).threshold
    saved = RunCheckpoints(checkpoints, key.as_dict(), checkpoint_every)
    resumed = saved.resume(model)
    progress = resumed or RunProgress(next_eval=eval_every)
    label = run_label(key.as_dict())
    curve = progress.curve
    start = clock() - progress.train_seconds
    spent = {"other": 0.0}  # evaluations and checkpoints

    def trained(now: float) -> float:
        return now - start - spent["other"]

    def say(what: str) -> None:
        if report is not None:
            report(f"  {label}: {what}")

    if resumed is not None:
        say(f"resumed at step {model.num_timesteps} from {saved.path}")

    class _Probe(BaseCallback):
        def _on_rollout_start(self) -> None:  # between two rollouts: nothing half-collected
            if saved.due(self.num_timesteps):
                begin = clock()
                saved.save(model, RunProgress(curve, round(trained(begin), 2), progress.next_eval))
                spent["other"] += clock() - begin
                say(f"checkpoint at {self.num_timesteps} steps")

        def _on_step(self) -> bool:
            # the last step is measured after the last update, by the final evaluation below
            if eval_every and progress.next_eval <= self.num_timesteps < key.steps:
                progress.next_eval += eval_every
                begin = clock()
                value = evaluate(model, key.env_id, key.seed, eval_episodes, eval_envs)
                curve.append([self.num_timesteps, round(trained(begin), 2), value])
                spent["other"] += clock() - begin
                say(f"{self.num_timesteps} of {key.steps} steps, return {value:.1f}, {trained(clock()):.0f} s of training")
            return True

    if key.steps > model.num_timesteps:
        model.learn(key.steps - model.num_timesteps, callback=_Probe(), reset_num_timesteps=resumed is None)
    train_seconds = trained(clock())
    final = evaluate(model, key.env_id, key.seed, eval_episodes, eval_envs)
    curve.append([key.steps, round(train_seconds, 2), final])
    reached = [seconds for _, seconds, value in curve if threshold is not None and value >= threshold]
    return {**key.as_dict(), "mean_return": final, "train_seconds": round(train_seconds, 2), "curve": curve,
            "seconds_to_threshold": reached[0] if reached else None}


def read_results(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """:return: the runs recorded in a results file (none if it does not exist)."""
    file = Path(path)
    if not file.is_file():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line.strip()]


def append_result(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """Append one run as a JSON line, flushed to disk before returning."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def done_keys(records: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """:return: the keys of the recorded runs, as tuples of :class:`RunKey` fields."""
    fields = list(RunKey.__dataclass_fields__)
    return {tuple(record[name] for name in fields) for record in records}


def at_budget(record: dict[str, Any], steps: int, threshold: float | None = None) -> dict[str, Any] | None:
    """A run as it stood at ``steps`` env steps, from its learning curve: the evaluation there
    (the same episodes as the final one), the training time to it, and the time it first
    reached ``threshold`` by then. A run's own budget is its last curve point.

    :param record: a run of :func:`read_results`.
    :param steps: the budget to read.
    :param threshold: the task's threshold (None: not timed).
    :return: the record with ``steps``, ``mean_return``, ``train_seconds`` and
        ``seconds_to_threshold`` of that point, or None when the curve has no evaluation there.
    """
    points = [point for point in record.get("curve") or [] if point[0] <= steps]
    if not points or points[-1][0] != steps:
        return None
    reached = [seconds for _, seconds, value in points if threshold is not None and value >= threshold]
    return {**record, "steps": steps, "mean_return": points[-1][2], "train_seconds": points[-1][1],
            "seconds_to_threshold": reached[0] if reached else None}


def summarize(records: list[dict[str, Any]], reps: int = 2000) -> list[dict[str, Any]]:
    """One row per (task, agent, normalisation, budget, implementation): every seed's return,
    the IQM with its bootstrap 95% interval, mean training seconds, seeds that reached the
    threshold and the median time they took.

    :param records: runs from :func:`read_results`.
    :param reps: bootstrap replications.
    :return: the rows, in first-seen order.
    """
    from ncp_control.agents.robustness.bootstrap import stratified_bootstrap_ci

    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for record in records:
        group = (record["env_id"], record["agent"], record["normalize"], record["steps"], record["implementation"])
        groups.setdefault(group, []).append(record)
    rows = []
    for (env_id, agent, normalize, steps, implementation), runs in groups.items():
        runs = sorted(runs, key=lambda r: r["seed"])
        returns = np.array([r["mean_return"] for r in runs])
        point, low, high = stratified_bootstrap_ci(returns[:, None], "iqm", reps=reps)
        times = [r["seconds_to_threshold"] for r in runs if r.get("seconds_to_threshold") is not None]
        rows.append({
            "env_id": env_id, "agent": agent, "normalize": normalize, "steps": steps, "implementation": implementation,
            "seeds": {r["seed"]: round(r["mean_return"], 1) for r in runs},
            "iqm": point, "ci": (low, high),
            "train_seconds": float(np.mean([r["train_seconds"] for r in runs])),
            "solved": f"{len(times)}/{len(runs)}",
            "median_seconds_to_threshold": float(np.median(times)) if times else None,
        })
    return rows
