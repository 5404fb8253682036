"""A backend service installs slmq without the worker extra: it submits and reads results, and never has torch."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.conftest import Deployment, StartWorker

SCRIPT = """
import importlib.util, json, sys
from producer import FleetClient
from slmq.schemas import SentimentResult
result = FleetClient().submit("sentiment", "Arrived early and well packed").get(timeout=120)
print(json.dumps({
    "result_type": type(result).__name__,
    "torch_importable": importlib.util.find_spec("torch") is not None,
    "torch_loaded": "torch" in sys.modules,
}))
"""


@pytest.fixture(scope="module")
def producer_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("producer-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(REPO)]
    done = subprocess.run(install, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return python


def test_a_producer_only_install_submits_without_torch(
    producer_python: Path, deployment: Deployment, start_worker: StartWorker
) -> None:
    start_worker("tiny")
    done = subprocess.run(
        [str(producer_python), "-c", SCRIPT], env=deployment.env, capture_output=True, text=True, timeout=300,
        cwd=deployment.home.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == (
        '{"result_type": "SentimentResult", "torch_importable": false, "torch_loaded": false}'
    )
