"""Deploying LiquidPPO, LiquidSAC and LiquidTD3 policies: the one-step actor, TorchScript/ONNX files, weights-only files.

:func:`actor_onestep` turns a trained policy into a :class:`~ncp_control.export.OneStepPolicy`
``(obs, state, dt) -> (action, new_state)`` that applies what ``model.predict`` applies around
the network: ``VecNormalize`` observation normalisation (if given), the policy's own
observation normaliser (``normalize_observations``), the transposition of channels-last
camera images (SB3 trains on ``[C, H, W]``; the exported policy takes the env's ``[H, W, C]``
images, as ``predict`` does), SB3's observation preprocessing and
features extractor, the actor head (``actor_head``) and the action layer, the deterministic
action (Gaussian mean / most likely choice; for LiquidSAC and LiquidTD3 the squashed mean, scaled to the
action space) and the clipping of Box actions to the action space. ``obs`` is the raw env observation, ``dt`` the
elapsed time in seconds (``info["dt"]``), the state is the actor's state (zeros at an
episode start).

:func:`save_policy` writes the weights-only format: a folder with ``policy.safetensors``
(tensors only) and ``config.json`` (plain JSON). :func:`load_policy` rebuilds the policy from
it without unpickling anything: classes named in the JSON are looked up in fixed tables of
this package and ``torch.nn``, never imported by name. SB3's ``.zip`` files unpickle objects
on load and are refused unless the caller trusts them (``trust_pickle``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from ncp_control.agents.common.env_util import channels_last
from ncp_control.agents.common.eval_policies import EvalPolicy
from ncp_control.agents.export_json import class_name, decode, encode, space_from_json, space_to_json
from ncp_control.agents.policies import RecurrentSequencePolicy
from ncp_control.agents.sac_policy import RecurrentSACPolicy
from ncp_control.agents.sequence import check_episode_starts
from ncp_control.agents.timing import elapsed_seconds
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.preprocessing import preprocess_obs
from stable_baselines3.common.vec_env import VecNormalize, VecTransposeImage, is_vecenv_wrapped
from torch import nn

from ncp_control import __version__
from ncp_control.errors import UserError
from ncp_control.export import Argmax, BoxActionClip, ObservationNormalizer, OneStepPolicy, ScaleFromUnit
from ncp_control.export.weights import read_json, read_tensors, write_json, write_tensors

POLICY_FORMAT = "ncp-control-policy"
WEIGHTS_FILE = "policy.safetensors"
CONFIG_FILE = "config.json"
_NORM_MEAN, _NORM_VAR = "obs_normalization.mean", "obs_normalization.var"
#: The policies that export: LiquidPPO's, LiquidSAC's and LiquidTD3's (a subclass of LiquidSAC's).
EXPORTABLE = (RecurrentSequencePolicy, RecurrentSACPolicy)


# ---------------------------------------------------------------------- one-step actor
class _Features(nn.Module):
    """The policy's input stage, as in its ``_features``: channels-last images transposed (if
    ``channels_last``), its observation normaliser (if ``normalize_observations``), SB3's
    preprocessing and the features extractor: ``[B, *obs_shape] -> [B, F]``."""

    def __init__(self, policy: RecurrentSequencePolicy | RecurrentSACPolicy, channels_last: bool = False) -> None:
        super().__init__()
        self.obs_normalizer: nn.Module | None = None
        self.extractor: nn.Module
        if isinstance(policy, RecurrentSACPolicy):
            self.extractor = policy.actor.encoder.extractor
        else:
            self.obs_normalizer, self.extractor = policy.obs_normalizer, policy.features_extractor
        self.observation_space = policy.observation_space
        self.normalize_images = policy.normalize_images
        self.channels_last = channels_last

    def forward(self, obs: th.Tensor) -> th.Tensor:
        """:param obs: ``[B, *obs_shape]`` (``[B, H, W, C]`` images with ``channels_last``). :return: ``[B, F]``."""
        if self.channels_last:
            obs = obs.permute(0, 3, 1, 2)
        if self.obs_normalizer is not None:
            obs = self.obs_normalizer(obs.float())
        return self.extractor(preprocess_obs(obs, self.observation_space, self.normalize_images))


def normalization_of(vec_normalize: VecNormalize | None) -> dict[str, Any] | None:
    """:param vec_normalize: a ``VecNormalize`` (or None).
    :return: ``{"mean", "var", "clip", "epsilon"}`` of its observation statistics, or None if
        it does not normalise observations."""
    if vec_normalize is None or not vec_normalize.norm_obs:
        return None
    if isinstance(vec_normalize.observation_space, spaces.Dict):
        raise UserError("export supports VecNormalize on Box observations only, got a Dict observation space")
    rms: Any = vec_normalize.obs_rms
    return {"mean": np.asarray(rms.mean), "var": np.asarray(rms.var), "clip": float(vec_normalize.clip_obs),
            "epsilon": float(vec_normalize.epsilon)}


def actor_onestep(
    policy: RecurrentSequencePolicy | RecurrentSACPolicy, normalization: dict[str, Any] | None = None, use_dt: bool = True,
    channels_last: bool = False,
) -> OneStepPolicy:
    """The deterministic actor of a policy as a one-step module.

    :param policy: a LiquidPPO policy (:class:`~ncp_control.agents.policies.RecurrentSequencePolicy`) or a
        LiquidSAC or LiquidTD3 policy (:class:`~ncp_control.agents.sac_policy.RecurrentSACPolicy`), any alias.
    :param normalization: observation statistics from :func:`normalization_of`, or None.
    :param use_dt: ``dt`` (seconds) divided by the policy's ``time_unit`` is the timespan
        (as LiquidPPO with ``use_info_dt=True``); False: every step lasts one time unit.
    :param channels_last: the env gives ``[H, W, C]`` images that the policy (trained through
        SB3's ``VecTransposeImage``) reads as ``[C, H, W]``: the module takes the env's images.
    :return: the module (eval mode), ``(obs, state [B, actor_state_size], dt [B]) -> (action, state)``.
    """
    if not isinstance(policy, EXPORTABLE):
        raise UserError(f"policy must be a LiquidPPO, LiquidSAC or LiquidTD3 policy, got {type(policy).__name__}")
    space = policy.observation_space
    if isinstance(space, spaces.Dict):
        raise UserError("the one-step policy supports Box and Discrete observation spaces, got a Dict space")
    normalizer = None
    if normalization is not None:
        normalizer = ObservationNormalizer(normalization["mean"], normalization["var"], normalization["clip"],
                                           normalization["epsilon"])
    action_space = policy.action_space
    post: nn.Module = (BoxActionClip(action_space.low, action_space.high) if isinstance(action_space, spaces.Box)
                       else Argmax())
    obs_dtype = th.from_numpy(np.zeros(0, dtype=space.dtype)).dtype
    shape = tuple(space.shape or ())
    if channels_last:
        if len(shape) != 3:
            raise UserError(f"channels_last needs an image observation [C, H, W], got shape {shape}")
        shape = (shape[1], shape[2], shape[0])
    if isinstance(policy, RecurrentSACPolicy):  # the squashed mean, in the action space's units
        assert isinstance(action_space, spaces.Box)
        actor = policy.actor
        network, state_size = actor.net, actor.state_size
        head: nn.Module = nn.Sequential(actor.head, actor.mu, nn.Tanh(), ScaleFromUnit(action_space.low, action_space.high))
    else:
        network, state_size = policy.actor_net, policy.actor_state_size
        head = nn.Sequential(policy.pi_head, policy.action_net) if len(policy.pi_head) else policy.action_net
    module = OneStepPolicy(
        network,
        state_size=state_size,
        obs_shape=shape,
        obs_dtype=obs_dtype,
        normalizer=normalizer,
        preprocess=_Features(policy, channels_last),
        head=head,
        postprocess=post,
        time_unit=policy.time_unit if use_dt else None,
    )
    return module.eval()


def takes_channels_last(model: BaseAlgorithm, env_observation_space: spaces.Space | None = None) -> bool:
    """Whether the model's env gives channels-last images that its policy reads transposed.

    :param model: the model.
    :param env_observation_space: the env's observation space, where the model has no env (a
        model loaded from files); None: read from the model's env.
    :return: True for a camera task trained through SB3's ``VecTransposeImage``.
    """
    if env_observation_space is not None:
        return channels_last(env_observation_space, model.observation_space)
    env = model.get_env()
    return env is not None and is_vecenv_wrapped(env, VecTransposeImage)


def model_onestep(model: BaseAlgorithm, vec_normalize: VecNormalize | None = None,
                  env_observation_space: spaces.Space | None = None) -> OneStepPolicy:
    """:param model: a trained :class:`ncp_control.agents.LiquidPPO`, :class:`ncp_control.agents.LiquidSAC` or :class:`ncp_control.agents.LiquidTD3`.
    :param vec_normalize: its ``VecNormalize`` (default: the one wrapping the model's env, if any).
    :param env_observation_space: the env's observation space (for a model without env: whether
        its images come channels-last, :func:`takes_channels_last`).
    :return: :func:`actor_onestep` of its policy, taking the env's observations."""
    if vec_normalize is None:
        vec_normalize = model.get_vec_normalize_env()
    policy: Any = model.policy
    return actor_onestep(policy, normalization_of(vec_normalize), bool(getattr(model, "use_info_dt", True)),
                         takes_channels_last(model, env_observation_space))


# ---------------------------------------------------------------------- weights-only files
#: constructor arguments that do not shape the network (rebuilt with defaults on load)
_TRAINING_ONLY = ("lr_schedule", "optimizer_class", "optimizer_kwargs")


def save_policy(model: BaseAlgorithm, folder: str | os.PathLike[str], vec_normalize: VecNormalize | None = None,
                extra: dict[str, Any] | None = None, env_observation_space: spaces.Space | None = None) -> Path:
    """Write a trained LiquidPPO, LiquidSAC or LiquidTD3 policy weights-only: ``folder/policy.safetensors`` and
    ``folder/config.json`` (both written atomically).

    :param model: the trained model.
    :param folder: destination folder (created).
    :param vec_normalize: its ``VecNormalize`` (default: the one wrapping the model's env, if any).
    :param extra: more information stored under ``"extra"`` (e.g. the run config); values that
        JSON cannot hold are stored as their text.
    :param env_observation_space: the env's observation space, for a model without env
        (:func:`takes_channels_last`).
    :return: the folder.
    """
    policy = model.policy
    if not isinstance(policy, EXPORTABLE):
        raise UserError(f"save_policy needs a LiquidPPO, LiquidSAC or LiquidTD3 policy, got {type(policy).__name__}")
    if vec_normalize is None:
        vec_normalize = model.get_vec_normalize_env()
    normalization = normalization_of(vec_normalize)
    transposed = takes_channels_last(model, env_observation_space)
    actor_onestep(policy, normalization, channels_last=transposed)  # fails now, not at load time
    kwargs = {k: v for k, v in policy._get_constructor_parameters().items() if k not in _TRAINING_ONLY}
    kwargs.pop("observation_space"), kwargs.pop("action_space")
    config = {
        "format": POLICY_FORMAT,
        "version": __version__,
        "policy_class": class_name(type(policy)),
        "observation_space": space_to_json(policy.observation_space),
        "action_space": space_to_json(policy.action_space),
        "policy_kwargs": encode(kwargs),
        "use_dt": bool(getattr(model, "use_info_dt", True)),
        "channels_last": transposed,
        "normalization": None if normalization is None else {"clip": normalization["clip"],
                                                             "epsilon": normalization["epsilon"]},
        "extra": encode(extra or {}, lenient=True),
    }
    tensors = dict(policy.state_dict())
    if normalization is not None:
        tensors[_NORM_MEAN] = th.as_tensor(normalization["mean"], dtype=th.float64)
        tensors[_NORM_VAR] = th.as_tensor(normalization["var"], dtype=th.float64)
    target = Path(folder)
    write_tensors(target / WEIGHTS_FILE, tensors)
    write_json(target / CONFIG_FILE, config)
    return target


def _weights_folder(path: Path) -> Path:
    """The folder of a weights-only policy given it, a run folder, or one of its two files."""
    if path.is_dir():
        for folder in (path, path / "weights"):
            if (folder / CONFIG_FILE).is_file() and (folder / WEIGHTS_FILE).is_file():
                return folder
        raise UserError(f"{path} holds no weights-only policy ({WEIGHTS_FILE} and {CONFIG_FILE}, "
                         "or a run folder's weights/)")
    if path.is_file() and path.name in (WEIGHTS_FILE, CONFIG_FILE):
        return path.parent
    if not path.exists():
        raise FileNotFoundError(f"no policy at {path}")
    raise UserError(f"{path} is not a weights-only policy (a folder with {WEIGHTS_FILE} and {CONFIG_FILE}); "
                     "SB3 .zip files unpickle objects on load and are not opened by load_policy: convert a "
                     "trusted one with `ncp-control export MODEL --format safetensors --trust-pickle`")


class DeployedPolicy:
    """A policy loaded from the weights-only format: the deterministic one-step actor with
    sb3-contrib's ``predict`` interface (so SB3's ``evaluate_policy`` works with it).

    :param module: the one-step actor.
    :param observation_space: the env's observation space.
    :param action_space: the env's action space.
    :param time_unit: seconds per unit of timespan (the policy's).
    :param config: the loaded ``config.json``.
    """

    def __init__(self, module: OneStepPolicy, observation_space: spaces.Space, action_space: spaces.Space,
                 time_unit: float, config: dict[str, Any]) -> None:
        self.module = module.eval()
        self.observation_space = observation_space
        self.action_space = action_space
        self.time_unit = float(time_unit)
        self.config = config

    @property
    def state_size(self) -> int:
        """:return: size of the actor state per env."""
        return self.module.state_size

    def predict(self, observation: Any, state: np.ndarray | None = None, episode_start: Any = None,
                deterministic: bool = True, dt: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Actions and next state for one step.

        :param observation: one raw observation or a batch ``[n_envs, ...]``.
        :param state: ``[n_envs, state_size]`` from the previous call, or None (at rest).
        :param episode_start: ``[n_envs]``: 1 where the observation starts an episode (state zeroed).
        :param deterministic: must be True (the deployed actor has no sampling).
        :param dt: elapsed time in seconds (scalar or ``[n_envs]``); None: one time unit. On the
            first step of an episode pass one nominal control period.
        :return: ``(actions, state)``; actions unbatched for an unbatched observation.
        """
        if not deterministic:
            raise UserError("a deployed policy acts deterministically; call predict(..., deterministic=True)")
        obs = np.asarray(observation)
        shape = tuple(self.observation_space.shape or ())
        vectorized = obs.shape != shape
        if vectorized and obs.shape[1:] != shape:
            raise UserError(f"observation must have shape {shape} or [n_envs, *{shape}], got {obs.shape}")
        batch = obs.reshape(-1, *shape) if vectorized else obs[None]
        n = batch.shape[0]
        h = np.zeros((n, self.state_size), np.float32) if state is None else np.asarray(state, np.float32)
        if h.shape != (n, self.state_size):
            raise UserError(f"state must have shape {(n, self.state_size)}, got {h.shape}")
        if np.issubdtype(batch.dtype, np.floating) and not np.isfinite(batch).all():
            raise UserError("observation must be finite: it has NaN or inf entries")
        if not np.isfinite(h).all():
            raise UserError("state must be finite: pass the state predict returned, or None")
        if episode_start is not None:
            h = (h * (1.0 - check_episode_starts(episode_start, n).reshape(n, 1))).astype(np.float32, copy=False)
        elapsed = elapsed_seconds(dt, n, self.time_unit)
        with th.no_grad():
            action, new_state = self.module(th.as_tensor(batch), th.as_tensor(h), th.as_tensor(elapsed))
        actions = action.numpy()
        return (actions if vectorized else actions[0]), new_state.numpy()


def load_policy(path: str | os.PathLike[str]) -> DeployedPolicy:
    """Load a policy written by :func:`save_policy`, without unpickling anything.

    :param path: the weights folder, a run folder (its ``weights/``), or one of the two files.
    :return: the deployed policy.
    :raises ValueError: for anything that is not this format (SB3 ``.zip`` files included), a
        config naming unknown classes, or tensors that do not fit the config.
    """
    folder = _weights_folder(Path(path))
    config = read_json(folder / CONFIG_FILE)
    if config.get("format") != POLICY_FORMAT:
        raise UserError(f"{folder / CONFIG_FILE} is not an ncp-control policy (format {config.get('format')!r}); "
                         "re-export it with `ncp-control export RUN_DIR --format safetensors`")
    policy_class = decode({"__class__": config.get("policy_class")})
    if not (isinstance(policy_class, type) and issubclass(policy_class, EXPORTABLE)):
        raise UserError(f"config.json: policy_class must be a LiquidPPO, LiquidSAC or LiquidTD3 policy, got {config.get('policy_class')!r}")
    observation_space = space_from_json(config["observation_space"])
    action_space = space_from_json(config["action_space"])
    kwargs = decode(config.get("policy_kwargs", {}))
    if not isinstance(kwargs, dict):
        raise UserError("config.json: policy_kwargs must be an object")
    try:
        policy = policy_class(observation_space, action_space, lambda _: 0.0, **kwargs)
    except TypeError as error:
        raise UserError(f"config.json: policy_kwargs do not fit {policy_class.__name__}: {error}") from None
    tensors = read_tensors(folder / WEIGHTS_FILE)
    norm = config.get("normalization")
    normalization = None
    if norm is not None:
        normalization = {"mean": tensors.pop(_NORM_MEAN), "var": tensors.pop(_NORM_VAR), "clip": float(norm["clip"]),
                         "epsilon": float(norm["epsilon"])}
    try:
        policy.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise UserError(f"the tensors in {folder} do not fit its config: {error}") from None
    policy.set_training_mode(False)
    transposed = config.get("channels_last")
    if transposed is None:  # written before the key: the run's env says whether its images are transposed
        extra = config.get("extra") or {}
        env_space = env_observation_space(extra.get("env_id"), extra.get("env_kwargs")) if extra.get("env_id") else None
        transposed = env_space is not None and channels_last(env_space, observation_space)
    module = actor_onestep(policy, normalization, bool(config.get("use_dt", True)), bool(transposed))
    if transposed:  # the env's images, as the module takes them
        assert isinstance(observation_space, spaces.Box)
        observation_space = spaces.Box(np.moveaxis(observation_space.low, 0, -1), np.moveaxis(observation_space.high, 0, -1),
                                       dtype=observation_space.dtype)
    return DeployedPolicy(module, observation_space, action_space, policy.time_unit, config)


def copy_policy(source: str | os.PathLike[str], folder: str | os.PathLike[str]) -> Path:
    """Copy a weights-only policy (a policy folder or a run folder's ``weights/``) to ``folder``,
    after loading it once, so that what is copied is a policy that loads.

    :param source: the policy, a run folder or one of the policy's files.
    :param folder: the destination folder (its two files are replaced atomically).
    :return: the destination.
    """
    origin = _weights_folder(Path(source))
    load_policy(origin)
    target = Path(folder)
    if target.resolve() == origin.resolve():
        raise UserError(f"the export target {target} is the policy itself; choose another --out")
    write_tensors(target / WEIGHTS_FILE, read_tensors(origin / WEIGHTS_FILE))
    write_json(target / CONFIG_FILE, read_json(origin / CONFIG_FILE))
    return target


# ---------------------------------------------------------------------- opening anything
def open_policy(path: str | os.PathLike[str], vec_normalize: VecNormalize | None = None,
                trust_pickle: bool = False) -> tuple[OneStepPolicy, BaseAlgorithm | None, dict[str, Any]]:
    """The one-step actor of a weights-only folder, a run folder or an SB3 model zip.

    A weights-only policy folder (or a run's ``weights/``) loads without unpickling; a run
    folder without it is opened by :func:`ncp_control.agents.runs.load_model` (its weights-only model
    state); an SB3 model zip is opened with SB3's loader, which unpickles, only with
    ``trust_pickle``.

    :param path: the policy.
    :param vec_normalize: observation statistics to fold in (SB3 sources only).
    :param trust_pickle: open SB3 zips (unpickling can run arbitrary code: your own files only).
    :return: ``(module, model or None, info)``; ``info`` has ``env_id`` (if known),
        ``env_kwargs`` (weights-only policies of run folders), ``time_unit`` and ``source``
        (``"weights"`` or ``"sb3"``).
    """
    target = Path(path)
    try:
        folder = _weights_folder(target)
        if read_json(folder / CONFIG_FILE).get("format") != POLICY_FORMAT:
            raise UserError("not this format")
    except ValueError:
        folder = None
    if folder is not None:
        if vec_normalize is not None:
            raise UserError("vec_normalize applies to SB3 models; a weights-only policy carries its statistics")
        deployed = load_policy(folder)
        extra = deployed.config.get("extra") or {}
        run = target / "run.json"
        env_id = extra.get("env_id") or (read_json(run).get("env_id") if run.is_file() else None)
        return deployed.module, None, {"env_id": env_id, "env_kwargs": extra.get("env_kwargs") or {},
                                       "time_unit": deployed.time_unit, "source": "weights"}
    from ncp_control.agents.runs.load import load_model

    model, info = load_model(target, trust_pickle=trust_pickle)
    if not isinstance(model.policy, EXPORTABLE):
        raise UserError(f"{target} holds a {type(model).__name__} model with {type(model.policy).__name__}; "
                         "export and inspect handle LiquidPPO, LiquidSAC and LiquidTD3 policies")
    policy: Any = model.policy
    env_space = env_observation_space(info.get("env_id"), info.get("env_kwargs"))
    return model_onestep(model, vec_normalize, env_space), model, {
        "env_id": info.get("env_id"), "env_kwargs": info.get("env_kwargs") or {}, "time_unit": policy.time_unit,
        "source": "sb3", "env_observation_space": env_space}


def env_observation_space(env_id: str | None, env_kwargs: dict[str, Any] | None = None) -> spaces.Space | None:
    """:param env_id: an env id (None: unknown). :param env_kwargs: its arguments.
    :return: its observation space (None for an unknown env)."""
    if env_id is None:
        return None
    from ncp_control.agents.common.env_util import make_env

    env = make_env(env_id, env_kwargs or {})
    try:
        return env.observation_space
    finally:
        env.close()


class _Recording(EvalPolicy):
    """The one-step actor as an evaluation policy (one episode), recording what its network reads
    (the sensory inputs), its neuron states after each step, its actions and the elapsed time."""

    def __init__(self, module: OneStepPolicy, neurons: int) -> None:
        self.module = module
        self.neurons = neurons
        self.inputs: list[th.Tensor] = []
        self.states: list[th.Tensor] = []
        self.actions: list[th.Tensor] = []
        self.times: list[float] = []
        self.names: tuple[str, ...] | None = None
        self._h = module.initial_state(1)

    def start(self, envs: list[Any]) -> None:
        from ncp_control.envs.names import observation_names

        self._h = self.module.initial_state(len(envs))
        self.names = observation_names(envs[0])

    def act(self, observations: Any, episode_start: np.ndarray, dt: np.ndarray) -> np.ndarray:
        x = th.as_tensor(np.asarray(observations))
        with th.no_grad():
            self.inputs.append(self.module.features(x)[0])
            action, self._h = self.module(x, self._h, th.as_tensor(dt, dtype=th.float32))
        self.times.append((self.times[-1] if self.times else 0.0) + float(dt[0]))
        self.states.append(self._h[0, : self.neurons].clone())
        self.actions.append(action[0].reshape(-1).to(th.float32))
        return action.numpy()


def record_episode(module: OneStepPolicy, env_id: str, seed: int = 0, max_steps: int = 1000,
                   env_kwargs: dict[str, Any] | None = None, watch: Any = None) -> tuple[Any, float]:
    """Run the one-step actor over one episode and record its neurons.

    :param module: from :func:`actor_onestep` / :func:`open_policy` (a liquid network inside).
    :param env_id: Gymnasium id.
    :param seed: episode seed.
    :param max_steps: step limit.
    :param env_kwargs: env constructor arguments.
    :param watch: an :class:`~ncp_control.agents.common.evaluation.EpisodeWatch` told of each step
        (e.g. a progress bar).
    :return: ``(traces, episode return)``; traces are :class:`~ncp_control.analysis.NeuronTraces`
        with the network inputs as the sensory group (named after the observation's entries where
        the env names them and the network reads them as they are), the actions and the time of
        each step (seconds since reset: the first step lasts one nominal control period, then
        each step's ``info["dt"]``).
    """
    from ncp_control.agents.common.env_util import make_env
    from ncp_control.agents.common.evaluation import run_episodes

    from ncp_control.analysis.structure import neuron_count, neuron_groups, wiring_of
    from ncp_control.analysis.traces import NeuronTraces
    from ncp_control.sequence import LiquidRNN

    if not isinstance(module.network, LiquidRNN):
        raise UserError(f"neuron traces need a liquid network, got {type(module.network).__name__}")
    n = neuron_count(module.network)
    recording = _Recording(module, n)
    row = run_episodes(recording, lambda: make_env(env_id, env_kwargs or {}), [seed], max_steps=max_steps,
                       watch=watch)[0]
    inputs = th.stack(recording.inputs)
    names = list(recording.names) if recording.names and len(recording.names) == inputs.shape[1] else None
    traces = NeuronTraces(inputs, th.stack(recording.states), neuron_groups(wiring_of(module.network), n),
                          th.stack(recording.actions), input_names=names, times=th.tensor(recording.times))
    return traces, float(row["return"])
