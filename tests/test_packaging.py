"""One import namespace: the folders envs/, agents/ and scripts/ install as ncp_control.envs,
ncp_control.agents and ncp_control.cli, each under that one name, in editable and regular installs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"ncp_control": "ncp_control", "ncp_control.envs": "envs", "ncp_control.agents": "agents", "ncp_control.cli": "scripts"}


def _setuptools_table() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_folders() -> dict[str, Path]:
    """Every package the folders hold, by its installed name."""
    found = {}
    for name, folder in FOLDERS.items():
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            parts = init.parent.relative_to(ROOT / folder).parts
            if name == "ncp_control" and parts and parts[0] in {"envs", "agents", "cli"}:
                continue
            found[".".join((name, *parts))] = init.parent
    return found


def _run(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", **env}, timeout=300)


def test_build_configuration_names_every_package_folder() -> None:
    table = _setuptools_table()
    assert table["package-dir"] == FOLDERS
    assert sorted(table["packages"]) == sorted(_package_folders())


def test_import_ncp_control_is_light(tmp_path: Path) -> None:
    out = _run("import sys, ncp_control; print(sorted(m for m in sys.modules if m.startswith(('ncp_control.envs', "
               "'ncp_control.agents', 'ncp_control.cli', 'gymnasium', 'stable_baselines3'))))", tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("folder", ["envs", "agents", "scripts"])
def test_a_folder_is_not_importable_under_its_folder_name(folder: str) -> None:
    """From the repository root the folders are on sys.path; importing them there is refused, so
    no module is loaded twice (two copies of envs would register the ids twice)."""
    out = _run(f"import {folder}", ROOT)
    assert out.returncode != 0
    assert f"import this package as {'ncp_control.cli' if folder == 'scripts' else 'ncp_control.' + folder}" in out.stderr


def test_every_module_is_loaded_once_under_one_name() -> None:
    code = ("import sys, pkgutil, importlib, ncp_control\n"
            "import ncp_control.envs, ncp_control.agents, ncp_control.cli.cli\n"
            "for pkg in (ncp_control.envs, ncp_control.agents, ncp_control.cli):\n"
            "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
            "        if not info.name.endswith('__main__'):\n"
            "            importlib.import_module(info.name)\n"
            "files = {}\n"
            "for name, module in list(sys.modules.items()):\n"
            "    path = getattr(module, '__file__', None)\n"
            "    if path and path.startswith(sys.argv[1]) and '/tests/' not in path and 'site-packages' not in path:\n"
            "        files.setdefault(path, []).append(name)\n"
            "twice = {p: n for p, n in files.items() if len(n) > 1}\n"
            "print(len(files), twice)\n"
            "assert not twice and not any(n.split('.')[0] in ('envs', 'agents', 'scripts') for n in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert int(out.stdout.split()[0]) > 100


@pytest.mark.slow
def test_the_wheel_installs_one_namespace(tmp_path: Path) -> None:
    """A regular install (the wheel), imported away from the repository."""
    source = tmp_path / "source"  # a copy, so that the build's own folders stay out of the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__",
                                                                 "_build", ".mypy_cache", ".ruff_cache",
                                                                 ".hypothesis", ".pytest_cache"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("ncp_control-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"ncp_control"}
    assert "ncp_control/agents/hyperparams/liquid_ppo.yml" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ncp-control = ncp_control.cli.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    away = tmp_path / "elsewhere"
    (away / "agents").mkdir(parents=True)  # a user's own agents/ folder does not shadow the package
    (away / "agents" / "__init__.py").write_text("MINE = True\n")
    code = ("import gymnasium as gym, ncp_control.envs, ncp_control.agents, agents\n"
            "from ncp_control.agents import LiquidPPO\n"
            "from ncp_control.agents.recipes import shipped_recipe\n"
            "assert shipped_recipe('NCPControl/CartPoleNoVel-v1').n_envs >= 1\n"
            "assert agents.MINE and ncp_control.agents.__file__.startswith(sys.argv[1])\n"
            "assert gym.make('NCPControl/QuadHover-v0') is not None\n"
            "print(ncp_control.agents.__file__)\n")
    out = subprocess.run([sys.executable, "-c", "import sys\n" + code, str(target)], cwd=away, capture_output=True,
                         text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{target}:{away}"})
    assert out.returncode == 0, out.stderr
