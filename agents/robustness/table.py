"""The tidy results table: one row per evaluated episode, appended atomically cell by cell.

Each append rewrites the file through a temporary file and ``os.replace``, so a reader (or a
sweep killed part-way) only ever sees whole cells: a cell is either in the file with all its
episodes or absent. CSV (``.csv``) and Parquet (``.parquet``) are supported.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from ncp_control.agents.common.files import atomic_write_bytes

from ncp_control.errors import UserError

#: Columns of the results table, in order.
COLUMNS: list[str] = [
    "model",
    "train_seed",
    "env_id",
    "suite",
    "perturbation",
    "family",
    "level",
    "seed",
    "return",
    "success",
    "crash",
    "length",
    "action_smoothness",
    "tracking_error",
]

#: Columns that identify one cell (a set of paired episodes).
CELL_KEY: list[str] = ["model", "train_seed", "env_id", "perturbation", "level"]


def _check_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UserError(f"results file must end in .csv or .parquet, got {path.name!r}")
    return suffix


def read_results(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a results table; an absent file gives an empty table with the standard columns.

    :param path: a ``.csv`` or ``.parquet`` file.
    :return: the table.
    """
    target = Path(path)
    suffix = _check_format(target)
    if not target.exists():
        return pd.DataFrame(columns=COLUMNS)
    if suffix == ".csv":
        frame = pd.read_csv(target)
    else:
        frame = pd.read_parquet(target)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(f"{target} is not a results table: missing columns {missing}")
    return frame


def append_rows(path: str | os.PathLike[str], rows: Sequence[dict[str, Any]]) -> None:
    """Append rows (one cell) to the table atomically.

    :param path: a ``.csv`` or ``.parquet`` file (created if absent).
    :param rows: dicts with the keys of :data:`COLUMNS`.
    """
    if not rows:
        return
    target = Path(path)
    suffix = _check_format(target)
    new = pd.DataFrame([{c: row.get(c) for c in COLUMNS} for row in rows], columns=COLUMNS)
    if suffix == ".csv":
        old = target.read_bytes() if target.exists() else b""
        buffer = io.StringIO()
        new.to_csv(buffer, header=not old, index=False)
        atomic_write_bytes(target, old + buffer.getvalue().encode())
    else:
        frame = pd.concat([read_results(target), new], ignore_index=True) if target.exists() else new
        buffer_b = io.BytesIO()
        frame.to_parquet(buffer_b, index=False)
        atomic_write_bytes(target, buffer_b.getvalue())


def _cell_key(values: Iterable[Any]) -> tuple[str, ...]:
    out = []
    for value in values:
        if isinstance(value, float):
            out.append(f"{value:.6g}")
        else:
            out.append(str(value))
    return tuple(out)


def cell_key(model: str, train_seed: Any, env_id: str, perturbation: str, level: float) -> tuple[str, ...]:
    """The key of one cell, normalised so that values read back from CSV compare equal.

    :return: a tuple of strings.
    """
    return _cell_key([model, "" if train_seed is None else train_seed, env_id, perturbation, float(level)])


def finished_cells(path: str | os.PathLike[str]) -> dict[tuple[str, ...], tuple[int, ...]]:
    """The cells already in the table, with the evaluation seeds of their episodes.

    :param path: the results file.
    :return: cell key (see :func:`cell_key`) -> sorted episode seeds.
    """
    frame = read_results(path)
    cells: dict[tuple[str, ...], tuple[int, ...]] = {}
    for values, group in frame.groupby(CELL_KEY, dropna=False, sort=False):
        model, train_seed, env_id, perturbation, level = values
        seed = "" if pd.isna(train_seed) else (int(train_seed) if float(train_seed).is_integer() else train_seed)
        key = cell_key(str(model), seed, str(env_id), str(perturbation), float(level))
        cells[key] = tuple(sorted(int(s) for s in group["seed"]))
    return cells
