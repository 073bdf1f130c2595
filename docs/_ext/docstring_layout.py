"""Sphinx extension: read two layouts of the package's docstrings as the author meant them.

- A field whose text continues on the next line without indentation, as in
  ``\"\"\":return: the state\n    and its size\"\"\"`` (after dedenting, the second line starts
  at column 0): the continuation lines are indented so that they stay in the field.
- A Markdown pipe table (``| a | b |`` rows with a ``|---|`` separator) becomes a
  ``list-table`` with one header row.
"""

from __future__ import annotations

import re
from typing import Any

FIELD = re.compile(r"^:[^:\s`][^:`]*:(\s|$)")
SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


def _indent_field_continuations(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_field = False
    for line in lines:
        if FIELD.match(line):
            in_field = True
        elif not line.strip():
            in_field = False
        elif in_field and not line[0].isspace():
            line = "    " + line
        out.append(line)
    return out


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _pipe_tables(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        if (lines[i].startswith("|") and i + 1 < len(lines) and SEPARATOR.match(lines[i + 1].strip())):
            rows = [_cells(lines[i])]
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [".. list-table::", "   :header-rows: 1", ""]
            for row in rows:
                out += [f"   * - {row[0]}"] + [f"     - {cell}" for cell in row[1:]]
            out.append("")
            continue
        out.append(lines[i])
        i += 1
    return out


def process_docstring(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """``autodoc-process-docstring`` hook: rewrite ``lines`` in place."""
    lines[:] = _pipe_tables(_indent_field_continuations(lines))


def setup(app: Any) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", process_docstring)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
