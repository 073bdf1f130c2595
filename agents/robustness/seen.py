"""Which cells of a robustness evaluation were in a model's training distribution.

A model trained under shift (``train_shift``, see
:mod:`ncp_control.envs.perturbations.train_shift`) has seen some perturbations up to some
level; the report marks those cells in- and the rest out-of-distribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from ncp_control.envs.perturbations.train_shift import TrainShift, parse_train_shifts, seen_in_training

#: Column of the cell table: True where the cell was in the model's training distribution.
SEEN = "seen_in_training"

#: Model name -> its training shifts (``"timing:0.5"`` items; empty: trained on the nominal env).
TrainShifts = Mapping[str, Sequence[str]]


def any_shift(train_shifts: TrainShifts | None) -> bool:
    """:param train_shifts: per-model training shifts, or None.
    :return: whether any model was trained under shift."""
    return bool(train_shifts) and any(train_shifts.values())  # type: ignore[union-attr]


def mark_seen(cells: pd.DataFrame, train_shifts: TrainShifts) -> pd.DataFrame:
    """Add the :data:`SEEN` column to a table with ``model``, ``perturbation`` and ``level`` columns.

    :param cells: e.g. :func:`~ncp_control.agents.robustness.summary.cell_summary`'s output.
    :param train_shifts: per-model training shifts (models not named: trained on the nominal env).
    :return: a copy with the column.
    """
    parsed = {model: parse_train_shifts(list(shifts)) for model, shifts in train_shifts.items()}
    seen = [seen_in_training(parsed.get(model, []), perturbation, float(level))
            for model, perturbation, level in zip(cells["model"], cells["perturbation"], cells["level"])]
    return cells.assign(**{SEEN: seen})


def seen_range(shifts: Sequence[str], perturbations: Sequence[str]) -> float:
    """The largest level seen in training for any of ``perturbations`` (0: none seen).

    :param shifts: a model's training shifts.
    :param perturbations: e.g. the perturbations of one family.
    :return: the level.
    """
    parsed: list[TrainShift] = parse_train_shifts(list(shifts))
    levels = [shift.max_level for shift in parsed if set(shift.perturbations) & set(perturbations)]
    return max(levels, default=0.0)
