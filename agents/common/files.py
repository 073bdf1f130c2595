"""Files the agents write: whole or not at all (a temporary file and ``os.replace``)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    A reader (or a process killed part-way) sees the old content or the new one, never a part.

    :param path: destination file (its folder is created).
    :param data: the full content.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path: str | os.PathLike[str], data: Any, sort_keys: bool = False) -> None:
    """Write ``data`` as indented JSON, atomically (:func:`atomic_write_bytes`).

    :param path: destination file.
    :param data: plain data; other objects are written as their ``str``.
    :param sort_keys: sort the keys of every mapping.
    """
    atomic_write_bytes(path, json.dumps(data, indent=2, sort_keys=sort_keys, default=str).encode())
