"""Run folders: one training run on disk, resumable after a kill.

Layout of a run folder::

    run.json                  marker: format, package version, env, algorithm, policy, status
    config.yaml               the resolved configuration (every hyperparameter used)
    model/                    the final model: state.safetensors + state.json (weights-only)
    best_model/               like model/: the model of the best mean return in eval.csv so far
    weights/policy.safetensors, weights/config.json   weights-only deployable policy
    checkpoints/step_<N>/     periodic checkpoints like model/ (optimizer, normalisers and an
                              off-policy replay buffer included), written atomically, newest two kept
    tb/                       TensorBoard logs
    eval.csv                  periodic clean evaluation: timesteps, mean/std return, success and crash
                              rates (also in TensorBoard under eval/)

Every file the package reads back is weights-only (:mod:`ncp_control.agents.model_state`: safetensors and
JSON); a model is rebuilt from ``config.yaml`` and its state is loaded into it. Nothing is
unpickled by default: SB3 ``.zip`` files (a bare model, or the ``model.zip`` and
``checkpoints/step_<N>.zip`` of runs written by earlier versions) are opened only with
``trust_pickle=True`` (``--trust-pickle``), since unpickling can run arbitrary code.

:func:`train_run` creates or resumes a run: with checkpoints present it loads the newest
readable one and trains the remaining steps. :func:`load_model` opens a run folder, a model
state folder or (trusted) a model zip and checks that it fits the installed version and the
requested environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ncp_control.agents.model_state import (
    is_state_folder,
    read_state_meta,
    read_streams,
    restore_state,
    save_state,
)
from ncp_control.agents.policy_kwargs import parse_policy_kwargs, resolve_policy_kwargs
from ncp_control.agents.recipes import normalize_options, read_recipe, training_env
from ncp_control.agents.robustness.evaluate import make_env
from ncp_control.agents.robustness.table import atomic_write_bytes
from ncp_control.agents.run_callbacks import CheckpointCallback, EvalLogCallback, truncate_eval_log
from ncp_control.agents.streams import restore as restore_streams
from ncp_control.agents.streams import try_capture as capture_streams
from ncp_control.agents.zips import zip_algorithm
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.utils import LinearSchedule

from ncp_control import __version__
from ncp_control.errors import UserError

RUN_FORMAT = "ncp-control-run"
_STEP = re.compile(r"^step_(\d+)$")
_STEP_ZIP = re.compile(r"^step_(\d+)\.zip$")


def pickle_refused(path: str | os.PathLike[str], what: str = "an SB3 .zip model") -> UserError:
    """The one error for a pickled file opened without trust.

    :param path: the file.
    :param what: what it is.
    :return: a UserError saying that the file is opened only with ``--trust-pickle``.
    """
    return UserError(f"{path} is {what}: opening it unpickles objects, which can run arbitrary code; it is "
                      "opened only with --trust-pickle (trust_pickle=True), for files you trust")


def algorithms() -> dict[str, type[BaseAlgorithm]]:
    """:return: algorithm name -> class (LiquidPPO, SB3 PPO/A2C/SAC/TD3, sb3-contrib RecurrentPPO)."""
    from ncp_control.agents.ppo import LiquidPPO
    from sb3_contrib import RecurrentPPO
    from stable_baselines3 import A2C, PPO, SAC, TD3

    return {"LiquidPPO": LiquidPPO, "PPO": PPO, "A2C": A2C, "SAC": SAC, "TD3": TD3, "RecurrentPPO": RecurrentPPO}


def algorithm_parameters(algo: str) -> set[str]:
    """The constructor arguments an algorithm takes besides ``policy``, ``env`` and the ones a
    run sets itself (``seed``, ``tensorboard_log``, ``verbose``).

    :param algo: a name of :func:`algorithms`.
    :return: the argument names.
    """
    import inspect

    parameters = inspect.signature(algorithms()[algo].__init__).parameters
    return set(parameters) - {"self", "policy", "env", "seed", "tensorboard_log", "verbose", "_init_setup_model"}


@dataclass
class RunConfig:
    """Everything that defines a training run.

    :param env_id: Gymnasium id.
    :param policy: policy alias or class path (``CfCPolicy``, ``MlpPolicy``, ...).
    :param algo: algorithm name (see :func:`algorithms`).
    :param timesteps: total environment steps.
    :param seed: training seed.
    :param n_envs: parallel environments (DummyVecEnv).
    :param hyperparams: algorithm arguments (``n_steps``, ``learning_rate``, ``policy_kwargs``...).
    :param env_kwargs: environment constructor arguments (used for training, evaluation,
        robustness and inspection of the run).
    :param normalize: ``VecNormalize`` options of the training envs (empty: none; see
        :func:`ncp_control.agents.recipes.normalize_options`).
    :param checkpoint_freq: steps between checkpoints (0: none).
    :param eval_freq: steps between clean evaluations (0: none).
    :param eval_episodes: episodes per evaluation.
    """

    env_id: str
    policy: str = "CfCPolicy"
    algo: str = "LiquidPPO"
    timesteps: int = 100_000
    seed: int = 0
    n_envs: int = 1
    hyperparams: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    normalize: dict[str, Any] = field(default_factory=dict)
    checkpoint_freq: int = 10_000
    eval_freq: int = 10_000
    eval_episodes: int = 5

    def validate(self) -> None:
        """Check every field, so that a run that starts does not fail on its configuration.

        :raises UserError: for an unknown algorithm, non-positive sizes, a seed outside
            ``[0, 2**32)``, arguments the algorithm does not take, or env arguments or
            ``normalize`` options that are not plain data; each names the field.
        """
        names = algorithms()
        if self.algo not in names:
            raise UserError(f"unknown algorithm {self.algo!r}; choose one of {sorted(names)}")
        if not isinstance(self.env_id, str) or not self.env_id:
            raise UserError(f"env_id must be a Gymnasium id such as 'Pendulum-v1', got {self.env_id!r}")
        if not isinstance(self.policy, str) or not self.policy:
            raise UserError(f"policy must be a policy alias such as 'CfCPolicy', got {self.policy!r}")
        for name in ("timesteps", "n_envs", "seed", "checkpoint_freq", "eval_freq", "eval_episodes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise UserError(f"{name} must be a whole number, got {value!r}")
        if self.timesteps < 1 or self.n_envs < 1:
            raise UserError(f"timesteps and n_envs must be positive, got {self.timesteps} and {self.n_envs}")
        if not 0 <= self.seed < 2**32:
            raise UserError(f"seed must be in [0, 2**32), got {self.seed}")
        for name in ("checkpoint_freq", "eval_freq", "eval_episodes"):
            if getattr(self, name) < 0:
                raise UserError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("hyperparams", "env_kwargs", "normalize"):
            if not isinstance(getattr(self, name), dict):
                raise UserError(f"{name} must be a mapping, got {getattr(self, name)!r}")
        self.env_kwargs = parse_policy_kwargs(self.env_kwargs, "env_kwargs")
        self.normalize = normalize_options(self.normalize, where="normalize") if self.normalize else {}
        taken = algorithm_parameters(self.algo)
        not_taken = sorted(set(self.hyperparams) - taken)
        if not_taken:
            import difflib

            hints = [f"{key} -> {close[0]}" for key in not_taken if (close := difflib.get_close_matches(key, taken, 1))]
            raise UserError(f"hyperparams {not_taken} are not arguments of {self.algo}"
                            + (f" (did you mean {', '.join(hints)}?)" if hints else "")
                            + "; remove them or choose an algorithm that takes them")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """:param data: a mapping with the fields of this class. :return: the config."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"unknown run configuration keys {unknown}; allowed: {sorted(known)}")
        return cls(**dict(data))


def load_hyperparams(path: str | os.PathLike[str], env_id: str, policy: str | None = None) -> dict[str, Any]:
    """Read a recipe file (:func:`ncp_control.agents.recipes.read_recipe`, the one reader of the rl-zoo format)
    as one flat mapping: the algorithm's arguments, and ``n_envs``, ``n_timesteps``, ``policy``,
    ``env_kwargs``, ``normalize`` (``VecNormalize`` options) where the file gives them.

    ``policy_kwargs`` are plain data (:func:`ncp_control.agents.policy_kwargs.parse_policy_kwargs`, never
    evaluated); ``lin_X`` stays a string until :func:`algorithm_arguments`.

    :param path: the YAML file (rl-zoo style ``{env_id: {...}}`` or flat).
    :param env_id: the entry to read in a zoo-style file.
    :param policy: the policy alias to be trained (None: the entry's).
    :return: the hyperparameters.
    """
    recipe = read_recipe(path, env_id, policy)
    extra = {"n_envs": recipe.n_envs, "n_timesteps": recipe.n_timesteps, "policy": recipe.policy,
             "env_kwargs": recipe.env_kwargs or None, "normalize": recipe.normalize or None}
    return {**recipe.hyperparams, **{k: v for k, v in extra.items() if v is not None}}


def schedule_from(value: Any) -> Any:
    """:param value: a hyperparameter as written in a file.
    :return: for ``"lin_X"``, a linear decay from X to 0 over training (rl-zoo3 convention);
        any other value unchanged."""
    if isinstance(value, str) and value.startswith("lin_"):
        return LinearSchedule(float(value[4:]), 0.0, 1.0)
    return value


def algorithm_arguments(hyperparams: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments from hyperparameters as a file holds them: ``lin_X`` schedules
    (:func:`schedule_from`) and ``policy_kwargs`` resolved by
    :func:`ncp_control.agents.policy_kwargs.resolve_policy_kwargs` (activation names to classes; a string
    is parsed by :func:`ncp_control.agents.policy_kwargs.parse_policy_kwargs` first, never evaluated).

    :param hyperparams: plain hyperparameters (not changed).
    :return: the arguments.
    """
    params = {k: schedule_from(v) for k, v in hyperparams.items()}
    kwargs = params.get("policy_kwargs")
    if isinstance(kwargs, str):
        kwargs = parse_policy_kwargs(kwargs)
    if kwargs is not None:
        params["policy_kwargs"] = resolve_policy_kwargs(kwargs)
    return params


class RunFolder:
    """A run folder on disk (see the module docstring for its layout).

    :param path: the folder.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    run_json = property(lambda self: self.path / "run.json")
    config_yaml = property(lambda self: self.path / "config.yaml")
    model_state = property(lambda self: self.path / "model")
    best_model = property(lambda self: self.path / "best_model")
    model_zip = property(lambda self: self.path / "model.zip")
    checkpoints = property(lambda self: self.path / "checkpoints")
    weights = property(lambda self: self.path / "weights")
    tensorboard = property(lambda self: self.path / "tb")
    eval_log = property(lambda self: self.path / "eval.csv")

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RunFolder:
        """Open an existing run folder, checking its marker and version.

        :param path: the folder.
        :raises ValueError: if it is not a run folder or was written by another version.
        """
        folder = cls(path)
        if not folder.path.is_dir():
            raise UserError(f"{folder.path} is not a run folder (no such directory)")
        if not folder.run_json.is_file():
            raise UserError(f"{folder.path} is not a run folder (no run.json)")
        info = folder.info()
        if info.get("format") != RUN_FORMAT:
            raise UserError(f"{folder.path} is not a run folder (run.json has format {info.get('format')!r})")
        if _minor(str(info.get("version"))) != _minor(__version__):
            raise UserError(
                f"{folder.path} was written by ncp-control {info.get('version')}; this is {__version__}: "
                "retrain or use that version"
            )
        return folder

    def info(self) -> dict[str, Any]:
        """:return: the content of ``run.json``."""
        try:
            return dict(json.loads(self.run_json.read_text()))
        except (OSError, json.JSONDecodeError) as error:
            raise UserError(f"{self.path} is not a run folder (unreadable run.json: {error})") from None

    def config(self) -> RunConfig:
        """:return: the resolved configuration."""
        return RunConfig.from_dict(yaml.safe_load(self.config_yaml.read_text()))

    def write_info(self, **values: Any) -> None:
        """Update ``run.json`` atomically. :param values: keys to set."""
        info = self.info() if self.run_json.exists() else {"format": RUN_FORMAT}
        info.update(values, version=__version__)
        atomic_write_bytes(self.run_json, json.dumps(info, indent=2).encode())

    def checkpoint_paths(self, pickled: bool = False) -> list[Path]:
        """:param pickled: list the SB3 ``step_<N>.zip`` files of earlier versions instead.
        :return: the checkpoints (weights-only state folders), oldest first."""
        if not self.checkpoints.is_dir():
            return []
        pattern = _STEP_ZIP if pickled else _STEP
        found = [(int(m.group(1)), p) for p in self.checkpoints.iterdir() if (m := pattern.match(p.name))]
        return [p for _, p in sorted(found)]

    def is_done(self) -> bool:
        """:return: whether training finished (final model written)."""
        return (self.run_json.is_file() and self.info().get("status") == "done"
                and (is_state_folder(self.model_state) or self.model_zip.is_file()))


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def export_weights(model: BaseAlgorithm, folder: Path, config: RunConfig) -> Path:
    """Weights-only export: the policy's tensors in safetensors and a JSON description.

    LiquidPPO policies are written with :func:`ncp_control.agents.export.save_policy` (rebuilt without
    unpickling by :func:`ncp_control.agents.export.load_policy`); other policies as their state dict.

    :param model: the trained model.
    :param folder: destination folder.
    :param config: the run's configuration (stored in the JSON).
    :return: the safetensors file.
    """
    from ncp_control.agents.export import save_policy
    from ncp_control.agents.policies import RecurrentSequencePolicy
    from safetensors.torch import save_file

    if isinstance(model.policy, RecurrentSequencePolicy):  # LiquidPPO: reloadable by agents.load_policy
        return save_policy(model, folder, extra=asdict(config)) / "policy.safetensors"
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().clone().contiguous() for k, v in model.policy.state_dict().items()}
    target = folder / "policy.safetensors"
    tmp = folder / ".tmp-policy.safetensors"
    save_file(tensors, str(tmp))
    os.replace(tmp, target)
    meta = {"version": __version__, "policy_class": type(model.policy).__name__, **asdict(config)}
    atomic_write_bytes(folder / "config.json", json.dumps(meta, indent=2, default=str).encode())
    return target


def new_model(config: RunConfig, tensorboard_log: str | None = None, device: str | None = None) -> BaseAlgorithm:
    """A fresh model for ``config`` on its own envs (``config.n_envs``, seeded ``config.seed``).

    :param config: the run configuration.
    :param tensorboard_log: TensorBoard folder (None: no logs).
    :param device: torch device (None: the hyperparameters' or SB3's default).
    :return: the model.
    """
    algo = algorithms()[config.algo]
    params = algorithm_arguments(config.hyperparams)
    if device is not None:
        params["device"] = device
    env = training_env(config.env_id, config.n_envs, config.seed, config.env_kwargs, config.normalize)
    try:
        return algo(config.policy, env, seed=config.seed, tensorboard_log=tensorboard_log, verbose=0, **params)
    except (KeyError, TypeError, ValueError) as error:  # the configuration does not build: the user's to fix
        env.close()
        first = " ".join(str(error).split())
        raise UserError(f"cannot build {config.algo} with policy {config.policy!r} and these hyperparams: "
                        f"{first}") from None


def build_model(config: RunConfig, folder: RunFolder) -> BaseAlgorithm:
    """A fresh model for ``config``, logging to the run's TensorBoard folder.

    :param config: the run configuration.
    :param folder: the run folder.
    :return: the model.
    """
    return new_model(config, tensorboard_log=str(folder.tensorboard))


def save_model_state(model: BaseAlgorithm, path: Path, config: RunConfig, replay_buffer: bool = False,
                     streams: dict[str, Any] | None = None) -> Path:
    """Write a model weights-only with its run configuration (see :mod:`ncp_control.agents.model_state`).

    :param model: the model.
    :param path: the state folder (replaced atomically).
    :param config: the run's configuration (stored, so that the folder rebuilds on its own).
    :param replay_buffer: also store an off-policy replay buffer (checkpoints).
    :param streams: the run's random streams and rollout position (checkpoints, see
        :mod:`ncp_control.agents.streams`).
    :return: the folder.
    """
    return save_state(model, path, {"config": asdict(config)}, replay_buffer=replay_buffer, streams=streams)


def load_model_state(path: str | os.PathLike[str], tensorboard_log: str | None = None,
                     device: str | None = None) -> tuple[BaseAlgorithm, RunConfig]:
    """Rebuild a model from a state folder of :func:`save_model_state`, without unpickling.

    :param path: the state folder (a run's ``model/`` or ``checkpoints/step_<N>/``).
    :param tensorboard_log: TensorBoard folder of the rebuilt model.
    :param device: torch device.
    :return: the model (with its own envs) and its run configuration.
    :raises ValueError: if the folder is not a state, or does not fit its configuration.
    """
    data = read_state_meta(path)
    meta = data.get("meta") or {}
    if not isinstance(meta.get("config"), dict):
        raise UserError(f"{path} holds no run configuration; it cannot be rebuilt")
    config = RunConfig.from_dict(meta["config"])
    model = new_model(config, tensorboard_log=tensorboard_log, device=device)
    return restore_state(model, path), config


def _stored_steps(path: Path) -> int:
    """The ``num_timesteps`` a state folder holds (-1 if it cannot be read)."""
    try:
        return int(read_state_meta(path)["state"]["counters"]["num_timesteps"])
    except (ValueError, OSError, KeyError, TypeError):
        return -1


def _resume(config: RunConfig, folder: RunFolder, trust_pickle: bool = False) -> BaseAlgorithm | None:
    states = folder.checkpoint_paths() + ([folder.model_state] if is_state_folder(folder.model_state) else [])
    for path in sorted(states, key=_stored_steps, reverse=True):  # newest first (an extended run's model/ too)
        try:
            model = load_model_state(path, tensorboard_log=str(folder.tensorboard))[0]
            streams = read_streams(path)
        except (ValueError, OSError, KeyError):  # a checkpoint cut short: try the one before
            continue
        if streams is not None:  # the same random streams and rollout position: as if never stopped
            restore_streams(model, streams)
        return model
    zips = folder.checkpoint_paths(pickled=True)
    if zips and not trust_pickle:
        raise pickle_refused(zips[-1], "a checkpoint in SB3's pickled .zip format (an earlier version's run)")
    algo = algorithms()[config.algo]
    for path in reversed(zips):
        try:
            env = training_env(config.env_id, config.n_envs, config.seed + 1, config.env_kwargs, config.normalize)
            model = algo.load(path, env=env, tensorboard_log=str(folder.tensorboard))
        except (ValueError, OSError, zipfile.BadZipFile, KeyError, RuntimeError):
            continue
        buffer = folder.checkpoints / "replay_buffer.pkl"
        if hasattr(model, "load_replay_buffer") and buffer.exists():
            model.load_replay_buffer(buffer)
        return model
    return None


def extend_run(path: str | os.PathLike[str], timesteps: int) -> RunConfig:
    """Give a run a new total budget, so that resuming it trains on to ``timesteps``.

    :param path: the run folder.
    :param timesteps: the new total (at least the steps it has trained).
    :return: the updated configuration (written to ``config.yaml``; the run is marked running).
    :raises UserError: if the run has trained more steps than that.
    """
    folder = RunFolder.open(path)
    config = folder.config()
    trained = int(folder.info().get("timesteps") or 0)
    if timesteps < max(trained, 1):
        raise UserError(f"--timesteps {timesteps} is less than the {trained} steps {folder.path} has trained; "
                        "give a larger total")
    if timesteps != config.timesteps:
        config.timesteps = timesteps
        atomic_write_bytes(folder.config_yaml, yaml.safe_dump(asdict(config), sort_keys=False).encode())
        folder.write_info(status="running")
    return config


def start_run_folder(folder: RunFolder, config: RunConfig) -> None:
    """Write a new run's ``config.yaml`` and ``run.json`` (status ``running``).

    :param folder: the run folder (created if absent).
    :param config: the validated configuration.
    :raises UserError: if the folder cannot be written (read-only, full disk); nothing is left behind.
    """
    existed = folder.path.exists()
    try:
        folder.path.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder.config_yaml, yaml.safe_dump(asdict(config), sort_keys=False).encode())
        folder.write_info(env_id=config.env_id, algo=config.algo, policy=config.policy, status="running")
    except OSError as error:
        for file in (folder.config_yaml, folder.run_json):
            try:
                file.unlink(missing_ok=True)
            except OSError:
                pass
        if not existed:
            shutil.rmtree(folder.path, ignore_errors=True)
        raise UserError(f"cannot write the run folder {folder.path} ({error.strerror or error}); "
                        "choose a writable --out with free space") from None


def train_run(config: RunConfig, path: str | os.PathLike[str], progress_bar: bool = False,
              trust_pickle: bool = False) -> BaseAlgorithm:
    """Train into a run folder, resuming from its newest checkpoint if it has one.

    :param config: the run configuration (ignored in favour of the stored one on resume).
    :param path: the run folder (created if absent).
    :param progress_bar: show SB3's progress bar.
    :param trust_pickle: resume a run of an earlier version from its pickled SB3 checkpoints
        (unpickling can run arbitrary code); without it such a run is refused.
    :return: the trained model.
    """
    folder = RunFolder(path)
    model: BaseAlgorithm | None = None
    if folder.run_json.exists():
        folder = RunFolder.open(path)
        config = folder.config()
    else:  # a new run: nothing is written before its model is built
        config.validate()
        model = build_model(config, folder)
        start_run_folder(folder, config)
    if folder.is_done():
        return load_model(folder.path, trust_pickle=trust_pickle)[0]
    if model is None:
        model = _resume(config, folder, trust_pickle)
        if model is None:
            model = build_model(config, folder)
        else:
            truncate_eval_log(folder, model.num_timesteps)
    callbacks: list[BaseCallback] = []
    if config.checkpoint_freq:
        callbacks.append(CheckpointCallback(folder, config, config.checkpoint_freq))
    eval_callback = EvalLogCallback(folder, config) if config.eval_freq else None
    if eval_callback is not None:
        callbacks.append(eval_callback)
    remaining = config.timesteps - model.num_timesteps
    if remaining > 0:
        model.learn(
            remaining, callback=CallbackList(callbacks), reset_num_timesteps=False, tb_log_name="run",
            progress_bar=progress_bar,
        )
    if eval_callback is not None and eval_callback._logged() != model.num_timesteps:
        eval_callback.init_callback(model)
        eval_callback.evaluate()
    # with its streams: extending the run (--resume --timesteps N) goes on from the same random streams
    save_model_state(model, folder.model_state, config, streams=capture_streams(model))
    export_weights(model, folder.weights, config)
    folder.write_info(status="done", timesteps=int(model.num_timesteps))
    return model


def _run_source(folder: RunFolder, trust_pickle: bool) -> Path:
    """The model a run folder holds: its final state, else its newest checkpoint (weights-only
    first; an earlier version's pickled ``.zip`` only with ``trust_pickle``)."""
    if is_state_folder(folder.model_state):
        return folder.model_state
    states = [p for p in folder.checkpoint_paths() if is_state_folder(p)]
    if states:
        return states[-1]
    zips = ([folder.model_zip] if folder.model_zip.is_file() else []) or folder.checkpoint_paths(pickled=True)[-1:]
    if zips:
        if not trust_pickle:
            raise pickle_refused(zips[0], "a model in SB3's pickled .zip format (a run of an earlier version)")
        return zips[0]
    raise UserError(f"run folder {folder.path} has no model yet (training never checkpointed)")


def load_model(path: str | os.PathLike[str], env_id: str | None = None,
               trust_pickle: bool = False) -> tuple[BaseAlgorithm, dict[str, Any]]:
    """Load a model from a run folder, a model state folder or an SB3 model zip, checking
    version and environment.

    Run folders and state folders are weights-only: the model is rebuilt from its stored
    configuration and its tensors are loaded, nothing is unpickled. An SB3 ``.zip`` (and a run
    of an earlier version that only has ``model.zip``) is opened with SB3's loader, which
    unpickles, only with ``trust_pickle=True``.

    :param path: a run folder, a state folder (``model/``, ``checkpoints/step_<N>/``) or a ``.zip``.
    :param env_id: the environment it will run on (checked against the model's spaces).
    :param trust_pickle: open SB3 zips (unpickling can run arbitrary code: your own files only).
    :return: the model (on the CPU, without envs) and its run information (``env_id``,
        ``env_kwargs`` (the run's environment arguments; empty for another ``env_id`` or a bare
        zip), ``algo``, ``policy``, ``path``, and ``seed`` for runs and states).
    :raises ValueError: if the folder is not a run, the files come from another version, a zip
        is given without ``trust_pickle``, or the model does not fit ``env_id``.
    """
    target = Path(path)
    info: dict[str, Any] = {}
    if target.is_dir() and is_state_folder(target):
        source = target
        run = target.parent.parent if target.parent.name == "checkpoints" else target.parent
        if (run / "run.json").is_file():
            info = RunFolder.open(run).info()
    elif target.is_dir():
        folder = RunFolder.open(target)
        info = {**folder.info(), "seed": folder.config().seed, "env_kwargs": dict(folder.config().env_kwargs)}
        source = _run_source(folder, trust_pickle)
    elif target.is_file():
        source = target
        marker = target.parent / "run.json"
        if marker.is_file():
            info = RunFolder.open(target.parent).info()
        if not trust_pickle:
            if not zipfile.is_zipfile(target):
                raise UserError(f"{target} is not a model saved by Stable-Baselines3 (not a zip file)")
            raise pickle_refused(target)
    else:
        raise FileNotFoundError(f"no run folder or model file at {target}")
    if is_state_folder(source):
        model, config = load_model_state(source, device="cpu")
        model.get_env().close()  # type: ignore[union-attr]
        model.env = None
        algo_name = config.algo
        info = {"env_id": config.env_id, "policy": config.policy, "seed": config.seed,
                "env_kwargs": dict(config.env_kwargs), **info}
    else:
        algo_name = str(info["algo"]) if "algo" in info else zip_algorithm(source)
        try:
            model = algorithms()[algo_name].load(source, device="cpu")
        except Exception as error:  # noqa: BLE001 - unpickling errors of any kind mean "not loadable here"
            raise UserError(
                f"cannot load {source} as {algo_name} (saved by another version of ncp-control or its "
                f"dependencies?): {type(error).__name__}: {error}"
            ) from None
    run_env = info.get("env_id")
    if env_id is not None and run_env is not None and run_env != env_id:
        raise UserError(f"model {source} was trained for {run_env}, not for {env_id}")
    env_kwargs = dict(info.get("env_kwargs") or {}) if env_id is None or env_id == run_env else {}
    if env_id is not None:
        env = make_env(env_id, env_kwargs)
        try:
            if env.observation_space != model.observation_space or env.action_space != model.action_space:
                raise UserError(
                    f"model {source} was trained for {run_env or 'another environment'} "
                    f"(observations {model.observation_space}, actions {model.action_space}); "
                    f"{env_id} has observations {env.observation_space}, actions {env.action_space}"
                )
        finally:
            env.close()
    return model, {**info, "algo": algo_name, "path": str(target), "env_id": run_env or env_id,
                   "env_kwargs": env_kwargs}
