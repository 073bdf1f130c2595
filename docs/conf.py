"""Sphinx configuration: furo theme, Markdown pages (MyST), API reference from the docstrings."""

from __future__ import annotations

import sys
from pathlib import Path

# The package is documented as installed (`pip install -e ".[docs]"`): its folders envs/,
# agents/ and scripts/ import as ncp_control.envs, .agents and .cli only through the install.
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "ncp-control"
author = "ncp-control contributors"
copyright = "ncp-control contributors"
try:
    from ncp_control import __version__ as release
except ImportError:  # pragma: no cover - the build imports the package anyway
    release = "0.1.0"
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "perturbation_catalogue",
    "docstring_layout",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "results", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_preserve_defaults = True
autoclass_content = "both"

html_theme = "furo"
html_title = "ncp-control"
html_static_path = ["_static"]
templates_path: list[str] = []
