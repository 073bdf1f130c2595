"""Hyperparameter recipes in the rl-baselines3-zoo YAML format: the one reader of that format.

A recipe file maps env ids to entries (``{env_id: {...}}``) or is one flat entry. An entry holds
the algorithm's arguments and these keys, which are not algorithm arguments:

- ``n_envs``, ``n_timesteps``, ``policy``: parallel envs, training budget, policy alias;
- ``policy_overrides: {Alias: {...}}``: what differs for another policy trained with the entry
  (see :func:`apply_policy_overrides`);
- ``env_kwargs``: environment constructor arguments (a mapping or an rl-zoo ``dict(...)``
  string, read as data);
- ``normalize``: SB3's ``VecNormalize`` around the training envs, as in rl-zoo: ``true``
  (observations and rewards), or its options as a mapping or ``dict(...)`` string
  (``norm_obs``, ``norm_reward``, ``clip_obs``, ``clip_reward``, ``gamma``, ``epsilon``);
  its ``gamma`` defaults to the entry's ``gamma``;
- ``normalize_reward: true``: rewards only (``normalize: {norm_obs: false, norm_reward: true}``);
- ``noise_type`` (``normal`` or ``ornstein-uhlenbeck``) and ``noise_std``: the exploration noise of
  the off-policy algorithms, made SB3's ``action_noise`` when the model is built
  (:func:`with_action_noise`).

``lin_X`` values stay strings here (a linear decay from X to 0, made a schedule when the model
is built: :func:`ncp_control.agents.runs.algorithm_arguments`); ``policy_kwargs`` are parsed as plain data
(:mod:`ncp_control.agents.policy_kwargs`), never evaluated. rl-zoo keys that load code by name
(``env_wrapper``, ``vec_env_wrapper``, ``callback``) and ``frame_stack`` (the liquid policies
keep their own memory) are refused with one line.

:func:`read_recipe` reads a file, :func:`shipped_recipe` the package's own
``agents/hyperparams/<algo>.yml``; :func:`training_env` builds the training envs of a recipe
(``n_envs``, ``env_kwargs``, ``normalize``) for every caller.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import yaml
from gymnasium import spaces
from ncp_control.agents.policy_kwargs import parse_policy_kwargs
from ncp_control.envs.perturbations.train_shift import ShiftRandomization, parse_train_shifts
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from ncp_control.errors import UserError

#: Folder of the shipped recipe files.
HYPERPARAMS_DIR = Path(__file__).parent / "hyperparams"
#: ``VecNormalize`` options a recipe may set.
NORMALIZE_OPTIONS = ("norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma", "epsilon")
_REFUSED = {
    "env_wrapper": "it imports a wrapper class by name; wrap the env in code (gym.make + your wrapper) instead",
    "vec_env_wrapper": "it imports a wrapper class by name; wrap the VecEnv in code instead",
    "callback": "it imports a callback class by name; pass callbacks to model.learn in code instead",
    "frame_stack": "the recurrent policies keep their own memory; use a recurrent policy (CfCPolicy, LSTMPolicy, "
                   "...) instead of stacked frames",
}


#: rl-zoo's exploration noise keys, and the noises ``noise_type`` names.
NOISE_KEYS = ("noise_type", "noise_std")
NOISES: dict[str, type[NormalActionNoise] | type[OrnsteinUhlenbeckActionNoise]] = {
    "normal": NormalActionNoise, "ornstein-uhlenbeck": OrnsteinUhlenbeckActionNoise,
}


def check_noise(params: Mapping[str, Any], where: str = "hyperparams") -> None:
    """:param params: hyperparameters. :param where: what to name in the error.
    :raises UserError: for a ``noise_type`` that is not one of :data:`NOISES`, or without a
        positive ``noise_std``, or a ``noise_std`` without ``noise_type``."""
    kind, std = params.get("noise_type"), params.get("noise_std")
    if kind is None and std is None:
        return
    if kind not in NOISES:
        raise UserError(f"{where}: noise_type must be one of {sorted(NOISES)} (with noise_std), got {kind!r}")
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not std > 0:
        raise UserError(f"{where}: noise_std must be a positive number (the noise's standard deviation in the "
                        f"[-1, 1] action units), got {std!r}")


def with_action_noise(params: Mapping[str, Any], action_space: spaces.Space) -> dict[str, Any]:
    """Constructor arguments with rl-zoo's ``noise_type``/``noise_std`` made SB3's ``action_noise``
    (zero mean, ``noise_std`` on every action dimension, as rl-zoo builds it).

    :param params: the arguments (not changed).
    :param action_space: the env's Box action space.
    :return: the arguments without the two keys, with ``action_noise`` where they were given.
    """
    resolved = {key: value for key, value in params.items() if key not in NOISE_KEYS}
    if params.get("noise_type") is None:
        return resolved
    check_noise(params)
    n_actions = int(np.prod(action_space.shape or (1,)))
    std = float(params["noise_std"])
    resolved["action_noise"] = NOISES[params["noise_type"]](mean=np.zeros(n_actions), sigma=std * np.ones(n_actions))
    return resolved


@dataclass
class Recipe:
    """One resolved recipe entry.

    :param hyperparams: the algorithm's arguments as plain data (``lin_X`` strings kept,
        ``policy_kwargs`` parsed).
    :param n_envs: parallel training envs (None: not given).
    :param n_timesteps: training budget in env steps (None: not given).
    :param policy: policy alias (None: not given).
    :param env_kwargs: environment constructor arguments.
    :param normalize: ``VecNormalize`` options of the training envs (empty: no ``VecNormalize``).
    :param train_shift: training under shift, ``SUITE_OR_NAME[:MAX_LEVEL]`` items (empty: none).
    """

    hyperparams: dict[str, Any] = field(default_factory=dict)
    n_envs: int | None = None
    n_timesteps: int | None = None
    policy: str | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    normalize: dict[str, Any] = field(default_factory=dict)
    train_shift: list[str] = field(default_factory=list)

    def flat(self) -> dict[str, Any]:
        """The recipe as one flat mapping: the algorithm's arguments, then ``n_envs``,
        ``n_timesteps``, ``policy``, ``env_kwargs``, ``normalize`` and ``train_shift`` where the
        recipe gives them.

        :return: a new mapping (the recipe is not changed).
        """
        extra = {"n_envs": self.n_envs, "n_timesteps": self.n_timesteps, "policy": self.policy,
                 "env_kwargs": self.env_kwargs or None, "normalize": self.normalize or None, "train_shift": self.train_shift or None}
        return {**self.hyperparams, **{k: v for k, v in extra.items() if v is not None}}


def apply_policy_overrides(params: Mapping[str, Any], policy: str | None = None) -> dict[str, Any]:
    """Resolve an entry's ``policy_overrides`` table for one policy.

    An entry may hold ``policy_overrides: {LTCPolicy: {learning_rate: lin_3e-3, ...}}``:
    the arguments that differ when that policy is trained with the entry's recipe. They
    replace the entry's own (``policy_kwargs`` are merged key by key).

    :param params: one entry (not changed).
    :param policy: the policy alias to train (None: the entry's ``policy``).
    :return: the entry without the table, with the chosen policy's overrides applied.
    """
    resolved = dict(params)
    table = resolved.pop("policy_overrides", None) or {}
    if not isinstance(table, Mapping) or not all(isinstance(v, Mapping) for v in table.values()):
        raise UserError(f"policy_overrides must map policy aliases to mappings of arguments, got {table!r}")
    extra = dict(table.get(policy or resolved.get("policy"), {}))
    kwargs = extra.pop("policy_kwargs", None)
    resolved.update(extra)
    if kwargs is not None:
        resolved["policy_kwargs"] = {**(resolved.get("policy_kwargs") or {}), **kwargs}
    return resolved


def normalize_options(value: Any, gamma: Any = None, where: str = "normalize") -> dict[str, Any]:
    """``VecNormalize`` options from a recipe's ``normalize`` value.

    :param value: ``true``/``false``, a mapping or a ``dict(...)`` string of :data:`NORMALIZE_OPTIONS`.
    :param gamma: the recipe's discount (the default of the options' ``gamma``).
    :param where: the key, for error messages.
    :return: the options (empty: no normalisation).
    :raises UserError: for another type or an unknown option.
    """
    if value is None or value is False:
        return {}
    if value is True:
        options: dict[str, Any] = {"norm_obs": True, "norm_reward": True}
    elif isinstance(value, (str, Mapping)):
        options = parse_policy_kwargs(value, where)
    else:
        raise UserError(f"{where} must be true/false or a mapping of VecNormalize options {list(NORMALIZE_OPTIONS)}, "
                        f"got {value!r}")
    unknown = sorted(set(options) - set(NORMALIZE_OPTIONS))
    if unknown:
        raise UserError(f"{where}: unknown VecNormalize options {unknown}; allowed: {list(NORMALIZE_OPTIONS)}")
    for key in ("norm_obs", "norm_reward"):
        if not isinstance(options.get(key, True), bool):
            raise UserError(f"{where}.{key} must be true or false, got {options[key]!r}")
    for key in ("clip_obs", "clip_reward", "gamma", "epsilon"):
        if key in options and (isinstance(options[key], bool) or not isinstance(options[key], (int, float))):
            raise UserError(f"{where}.{key} must be a number, got {options[key]!r}")
    if not options.get("norm_obs", True) and not options.get("norm_reward", True):
        return {}
    if gamma is not None and "gamma" not in options:
        options["gamma"] = float(gamma)
    return options


def _count(value: Any, key: str, where: str) -> int | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{where}: {key} must be a positive whole number, got {value!r}") from None
    if isinstance(value, bool) or number != int(number) or number < 1:
        raise UserError(f"{where}: {key} must be a positive whole number, got {value!r}")
    return int(number)


def parse_recipe(entry: Mapping[str, Any], policy: str | None = None, where: str = "recipe") -> Recipe:
    """Resolve one entry (see the module docstring) for a policy.

    :param entry: the entry as ``yaml.safe_load`` returns it (not changed).
    :param policy: the policy alias to train (None: the entry's); its ``policy_overrides`` apply.
    :param where: the file or entry, for error messages.
    :return: the recipe.
    :raises UserError: for a refused key or a value of the wrong type, naming the key.
    """
    if not isinstance(entry, Mapping):
        raise UserError(f"{where} must hold a mapping of hyperparameters, got {type(entry).__name__}")
    data = dict(entry)
    if data.get("policy") is not None and not isinstance(data["policy"], str):
        raise UserError(f"{where}: policy must be a policy alias such as CfCPolicy, got {data['policy']!r}")
    table = data.get("policy_overrides")
    if isinstance(table, Mapping):
        table = {alias: dict(values) if isinstance(values, Mapping) else values for alias, values in table.items()}
        data["policy_overrides"] = table
    for part in [data, *(v for v in (table or {}).values() if isinstance(v, dict))] if isinstance(table, Mapping) \
            else [data]:
        if part.get("policy_kwargs") is not None:
            part["policy_kwargs"] = parse_policy_kwargs(part["policy_kwargs"], f"{where}: policy_kwargs")
    params = apply_policy_overrides(data, policy)
    refused = sorted(set(params) & set(_REFUSED))
    if refused:
        raise UserError(f"{where}: {refused[0]} is not supported: {_REFUSED[refused[0]]}")
    check_noise(params, where)
    normalize = params.pop("normalize", None)
    normalize_reward = params.pop("normalize_reward", None)
    if normalize_reward not in (None, True, False):
        raise UserError(f"{where}: normalize_reward must be true or false, got {normalize_reward!r}")
    if normalize_reward and normalize not in (None, False):
        raise UserError(f"{where}: give normalize or normalize_reward, not both "
                        "(normalize_reward: true is normalize: {norm_obs: false, norm_reward: true})")
    if normalize_reward:
        normalize = {"norm_obs": False, "norm_reward": True}
    env_kwargs = params.pop("env_kwargs", None)
    train_shift = [str(shift) for shift in parse_train_shifts(params.pop("train_shift", None))]
    policy_name = params.pop("policy", None)
    n_envs = _count(params.pop("n_envs", None), "n_envs", where)
    n_timesteps = _count(params.pop("n_timesteps", None), "n_timesteps", where)
    return Recipe(
        hyperparams=params,
        n_envs=n_envs,
        n_timesteps=n_timesteps,
        policy=policy_name,
        env_kwargs=parse_policy_kwargs(env_kwargs, f"{where}: env_kwargs") if env_kwargs is not None else {},
        normalize=normalize_options(normalize, params.get("gamma"), f"{where}: normalize"),
        train_shift=train_shift,
    )


def _load_yaml(file: Path) -> Any:
    if not file.is_file():
        raise FileNotFoundError(f"hyperparameter file {file} does not exist")
    try:
        return yaml.safe_load(file.read_text())
    except yaml.YAMLError as error:
        first = " ".join(str(error).split())
        raise UserError(f"{file} is not valid YAML ({first}); fix the file") from None


def read_recipe(path: str | os.PathLike[str], env_id: str, policy: str | None = None) -> Recipe:
    """Read a recipe file: rl-zoo style (``{env_id: {...}}``) or one flat entry.

    :param path: the YAML file.
    :param env_id: the entry to read in a zoo-style file.
    :param policy: the policy alias to train (None: the entry's).
    :return: the recipe.
    :raises FileNotFoundError: if the file is missing.
    :raises UserError: for invalid YAML, a missing entry or a bad key.
    """
    file = Path(path)
    data = _load_yaml(file) or {}
    if not isinstance(data, dict):
        raise UserError(f"{file} must hold a mapping of hyperparameters (or of env ids to them)")
    if env_id in data and isinstance(data[env_id], dict):
        data = data[env_id]
    elif any(re.search(r"-v\d+$", str(key)) for key in data):
        raise UserError(f"{file} has no entry for {env_id!r}; entries: {sorted(map(str, data))}")
    return parse_recipe(data, policy, str(file))


def hyperparams_file(algo: str = "liquid_ppo") -> Path:
    """:param algo: file stem. :return: the shipped recipe file of that algorithm."""
    path = HYPERPARAMS_DIR / f"{algo}.yml"
    if not path.is_file():
        choices = sorted(p.stem for p in HYPERPARAMS_DIR.glob("*.yml"))
        raise UserError(f"no hyperparameters for algo {algo!r}; choose one of {choices}")
    return path


def shipped_tasks(algo: str = "liquid_ppo") -> list[str]:
    """:param algo: file stem. :return: the env ids with a shipped recipe."""
    return sorted(_load_yaml(hyperparams_file(algo)) or {})


def shipped_recipe(env_id: str, policy: str | None = None, algo: str = "liquid_ppo") -> Recipe:
    """The package's tuned recipe of a task.

    :param env_id: e.g. ``"NCPControl/CartPoleNoVel-v1"``.
    :param policy: the policy alias to train (None: the entry's); its overrides apply.
    :param algo: file stem.
    :return: the recipe.
    :raises UserError: if the task has none.
    """
    file = hyperparams_file(algo)
    table = _load_yaml(file) or {}
    if env_id not in table:
        raise UserError(f"no tuned hyperparameters for {env_id!r}; tasks: {sorted(table)}")
    return parse_recipe(table[env_id], policy, f"{file}: {env_id}")


def training_env(env_id: str, n_envs: int = 1, seed: int = 0, env_kwargs: Mapping[str, Any] | None = None,
                 normalize: Mapping[str, Any] | None = None, train_shift: Sequence[str] | None = None,
                 timespans: bool = False) -> VecEnv:
    """The training envs of a recipe: ``n_envs`` envs (a DummyVecEnv, env ``i`` seeded
    ``seed + i``), each in a :class:`~ncp_control.envs.perturbations.train_shift.ShiftRandomization`
    when ``train_shift`` is given, in a ``VecNormalize`` when ``normalize`` has options.

    :param env_id: Gymnasium id (``NCPControl/`` ids are registered first).
    :param n_envs: parallel envs.
    :param seed: seed of the first env.
    :param env_kwargs: environment constructor arguments.
    :param normalize: ``VecNormalize`` options (see :func:`normalize_options`).
    :param train_shift: training under shift: ``SUITE_OR_NAME[:MAX_LEVEL]`` items (None or empty:
        the nominal env); a perturbation and a level are drawn at every reset from the env's seed.
    :param timespans: wrap each env in a :class:`~ncp_control.agents.timespan_obs.TimespanObservation`
        (the ``VecNormalize`` then normalises every key but the timespan, unless ``norm_obs_keys`` is given).
    :return: the vectorised env.
    """
    from ncp_control.agents.common.env_util import make_env
    from ncp_control.agents.timespan_obs import TIMESPAN_KEY, TimespanObservation

    kwargs = dict(env_kwargs or {})
    shifts = parse_train_shifts(train_shift)

    def make() -> gym.Env:
        env = make_env(env_id, kwargs)
        env = ShiftRandomization(env, shifts) if shifts else env
        return TimespanObservation(env) if timespans else env

    env: VecEnv = make_vec_env(make, n_envs=n_envs, seed=seed)
    if normalize:
        options = dict(normalize)
        if timespans and isinstance(env.observation_space, gym.spaces.Dict):
            options.setdefault("norm_obs_keys", [key for key in env.observation_space.spaces if key != TIMESPAN_KEY])
        env = VecNormalize(env, **options)
    return env


def shipped_file(name: str) -> Path | None:
    """:param name: the stem of a shipped recipe file (``"lane_keeping_camera"``).
    :return: its path, or None when the package ships no such file."""
    path = HYPERPARAMS_DIR / f"{name}.yml"
    return path if re.fullmatch(r"[A-Za-z0-9_.-]+", name) and path.is_file() else None


#: The shipped recipe file of each algorithm (the other shipped files are LiquidPPO's too).
ALGORITHM_FILES = {"LiquidPPO": "liquid_ppo", "LiquidSAC": "liquid_sac", "LiquidTD3": "liquid_td3"}


def shipped_recipe_for(env_id: str, env_kwargs: Mapping[str, Any] | None = None,
                       policy: str | None = None, algo: str = "LiquidPPO") -> tuple[Recipe, Path] | None:
    """The package's tuned recipe of a task with the given env arguments, for LiquidPPO, LiquidSAC or LiquidTD3.

    The algorithm's file is searched first (``liquid_ppo.yml``, ``liquid_sac.yml``, ``liquid_td3.yml``), then, for
    LiquidPPO, every other shipped file that is not an algorithm's; an entry of ``env_id`` fits when
    its ``env_kwargs`` are among ``env_kwargs`` (so ``lane_keeping_camera.yml``, whose entry has
    ``observation: camera``, serves ``--env-kwargs observation=camera`` and nothing else); the
    entry with the most env arguments wins.

    :param env_id: the task.
    :param env_kwargs: the env arguments of the run.
    :param policy: the policy alias to train (its overrides apply).
    :param algo: ``"LiquidPPO"``, ``"LiquidSAC"`` or ``"LiquidTD3"``.
    :return: ``(recipe, file)``, or None where no entry fits.
    """
    given = dict(env_kwargs or {})
    files = [hyperparams_file(ALGORITHM_FILES[algo])]
    if algo == "LiquidPPO":
        files += sorted(p for p in HYPERPARAMS_DIR.glob("*.yml") if p.stem not in ALGORITHM_FILES.values())
    best: tuple[Recipe, Path] | None = None
    for file in files:
        table = _load_yaml(file) or {}
        if not isinstance(table, dict) or not isinstance(table.get(env_id), dict):
            continue
        recipe = parse_recipe(table[env_id], policy, f"{file}: {env_id}")
        fits = all(key in given and given[key] == value for key, value in recipe.env_kwargs.items())
        if fits and (best is None or len(recipe.env_kwargs) > len(best[0].env_kwargs)):
            best = (recipe, file)
    return best
