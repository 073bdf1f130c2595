"""Sphinx extension: write the perturbation catalogue as a Markdown table at build time.

The table comes from ``ncp_control.envs.perturbations.available()`` and ``SUITES``, so the
documentation lists exactly what the installed package offers. ``perturbations.md`` includes
the generated file ``_generated/perturbation_catalogue.md``.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any


def _summary(obj: Any) -> str:
    """The first paragraph of an object's docstring, on one line, with ``|`` escaped."""
    doc = inspect.getdoc(obj) or ""
    paragraph = doc.split("\n\n", 1)[0]
    return " ".join(paragraph.split()).replace("|", "\\|")


def _number(value: float) -> str:
    return f"{value:g}"


def catalogue_markdown() -> str:
    """:return: the catalogue (one row per perturbation) and the suites, as Markdown."""
    from ncp_control.envs import perturbations

    lines = [
        "| perturbation | family | what it does | level 1 | works on |",
        "|---|---|---|---|---|",
    ]
    for entry in perturbations.available():
        cls = perturbations.get(entry.name)
        target = f"{cls.__module__}.{cls.__qualname__}"
        name = f"{{py:class}}`{entry.name} <{target}>`"
        level_one = f"{_number(entry.level_one)} {entry.unit}".strip()
        lines.append(f"| {name} | {entry.family} | {_summary(cls)} | {level_one} | {entry.supports} |")
    lines += ["", "| suite | perturbations | levels |", "|---|---|---|"]
    for suite_name in perturbations.SUITES:
        entries = perturbations.suite(suite_name)
        names = ", ".join(f"`{name}`" for name, _ in entries)
        levels = ", ".join(_number(level) for level in sorted({lv for _, lvs in entries for lv in lvs}))
        lines.append(f"| `{suite_name}` | {names} | {levels} |")
    return "\n".join(lines) + "\n"


def write_catalogue(app: Any) -> None:
    """``builder-inited`` hook: write ``_generated/perturbation_catalogue.md`` if it changed."""
    path = Path(app.srcdir) / "_generated" / "perturbation_catalogue.md"
    text = catalogue_markdown()
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", write_catalogue)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
