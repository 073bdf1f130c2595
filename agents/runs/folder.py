"""A run folder on disk: its files, its ``run.json`` marker and its checkpoints.

See :mod:`ncp_control.agents.runs` for the layout.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml
from ncp_control.agents.common.files import atomic_write_json
from ncp_control.agents.model_state import is_state_folder
from ncp_control.agents.runs.config import RunConfig

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
    progress_json = property(lambda self: self.path / "progress.json")

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
        atomic_write_json(self.run_json, info)

    def write_progress(self, task: str, done: int, total: int, unit: str) -> None:
        """Say how far the run's current task is, in ``progress.json`` (atomically; read by a
        sweep's progress bar while the run works in another process).

        :param task: what it does (``"training"``, ``"evaluating dynamics"``).
        :param done: units done. :param total: units in all. :param unit: what a unit is (``"steps"``).
        """
        atomic_write_json(self.progress_json, {"task": task, "done": int(done), "total": int(total), "unit": unit})

    def progress(self) -> dict[str, Any] | None:
        """:return: the last :meth:`write_progress` (None before the first, or while unreadable)."""
        try:
            return dict(json.loads(self.progress_json.read_text()))
        except (OSError, json.JSONDecodeError):
            return None

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
