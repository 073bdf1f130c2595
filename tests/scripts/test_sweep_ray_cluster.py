"""``ncp-control sweep --backend ray --address ADDR`` against a real cluster: a head node
started with ``ray start --head`` in a separate process, on 127.0.0.1 only, stopped at the end."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
#: the node's address is the loopback one (Ray's node IP otherwise resolves to the machine's
#: outward address even with --node-ip-address=127.0.0.1); the driver needs the same setting.
#: Token authentication off for this loopback-only cluster: ``ray start`` turns it on where a
#: token file exists (~/.ray/auth_token), and the driver would then be refused.
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def ray_head(ray_exclusive: None) -> Iterator[tuple[str, Path]]:
    """A one-CPU Ray head node in its own process group; yields its address and temp folder."""
    ray = Path(sys.executable).with_name("ray")
    if not ray.exists():
        pytest.skip("the ray command line is not installed")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths have a length limit
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1", **LOOPBACK}
    head = subprocess.Popen(
        [str(ray), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=1",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"],
        env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 120
        while not _listening(port):
            if head.poll() is not None or time.time() > deadline:
                pytest.fail(f"ray start --head did not come up (exit status {head.poll()})")
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", Path(temp)
    finally:
        head.send_signal(signal.SIGTERM)  # --block: the head stops the processes it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
        try:
            os.killpg(head.pid, signal.SIGKILL)  # anything of its process group left behind
        except ProcessLookupError:
            pass
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.slow
def test_sweep_on_a_ray_cluster_started_with_ray_start(tmp_path: Path, ray_head: tuple[str, Path]) -> None:
    """The driver is its own process: Ray reads the loopback setting when it is imported, and
    another test of this process may have imported it already."""
    address, temp = ray_head
    spec = {"envs": ["Pendulum-v1"], "seeds": [0], "timesteps": 64, "checkpoint_freq": 64, "suites": ["timing"],
            "levels": [1.0], "episodes": 1,
            "policies": [{"name": "ppo", "policy": "MlpPolicy", "algo": "PPO",
                          "hyperparams": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}}]}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "RAY_USAGE_STATS_ENABLED": "0", **LOOPBACK}
    driver = subprocess.run(
        [sys.executable, "-m", "ncp_control.cli", "sweep", str(path), "--out", str(out), "--backend", "ray",
         "--address", address, "--no-progress"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert driver.returncode == 0, driver.stderr[-3000:]
    table = pd.read_csv(out / "results.csv")
    assert {"ppo", "random"} <= set(table["model"])
    assert [p.parent.name for p in out.rglob("run.json")] == ["Pendulum-v1__ppo__seed0"]
    # the job ran in a worker of that cluster (its logs are in the head's session folder)
    assert list(temp.glob("session_*/logs/worker-*"))
    assert (temp / "ray_current_cluster").read_text().startswith("127.0.0.1:")
