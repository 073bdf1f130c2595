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

The modules: :mod:`~ncp_control.agents.runs.config` (:class:`RunConfig`),
:mod:`~ncp_control.agents.runs.folder` (:class:`RunFolder`), :mod:`~ncp_control.agents.runs.models`
(building, saving and rebuilding models), :mod:`~ncp_control.agents.runs.callbacks` (checkpoints,
evaluation log), :mod:`~ncp_control.agents.runs.train` and :mod:`~ncp_control.agents.runs.load`.
"""

from ncp_control.agents.runs.callbacks import CheckpointCallback, EvalLogCallback, truncate_eval_log
from ncp_control.agents.runs.config import (
    RunConfig,
    algorithm_arguments,
    algorithm_parameters,
    algorithms,
    load_hyperparams,
    schedule_from,
)
from ncp_control.agents.runs.folder import RUN_FORMAT, RunFolder, pickle_refused
from ncp_control.agents.runs.load import load_model
from ncp_control.agents.runs.models import build_model, load_model_state, new_model, save_model_state
from ncp_control.agents.runs.train import export_weights, extend_run, start_run_folder, train_run

__all__ = [
    "RUN_FORMAT",
    "CheckpointCallback",
    "EvalLogCallback",
    "RunConfig",
    "RunFolder",
    "algorithm_arguments",
    "algorithm_parameters",
    "algorithms",
    "build_model",
    "export_weights",
    "extend_run",
    "load_hyperparams",
    "load_model",
    "load_model_state",
    "new_model",
    "pickle_refused",
    "save_model_state",
    "schedule_from",
    "start_run_folder",
    "train_run",
    "truncate_eval_log",
]
