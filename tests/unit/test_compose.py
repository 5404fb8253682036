"""docker-compose.yml is valid Compose and runs only real slmq commands, with the deployment's safeguards."""

import argparse
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from slmq.cli import _parser
from slmq.fleet import load_fleet
from tests.conftest import REPO

SCHEMA = Path(__file__).parent / "data" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((REPO / "docker-compose.yml").read_text())  # resolves the <<: merges
    assert isinstance(document, dict)
    return document


def slmq_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the slmq image (its entrypoint is `slmq`, so `command` is slmq's arguments)."""
    return {name: service for name, service in compose["services"].items() if "build" in service}


def subcommands() -> set[str]:
    actions = [action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction)]
    return set(actions[0].choices)


def test_the_compose_file_validates_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose), key=str)
    assert not errors, "\n".join(f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_check_would_catch_a_misspelt_key(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    broken = {**compose, "services": {**compose["services"], "metrics": {**compose["services"]["metrics"]}}}
    broken["services"]["metrics"]["comand"] = ["metrics"]
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


def test_every_slmq_command_parses_and_names_a_real_subcommand(compose: dict[str, Any]) -> None:
    services = slmq_services(compose)
    assert services, "no service runs the slmq image"
    fleet = load_fleet(REPO / "fleet.toml")
    for name, service in services.items():
        command = service["command"]
        assert command[0] in subcommands(), f"{name}: {command[0]!r} is not an slmq command"
        try:
            args = _parser().parse_args(command)
        except SystemExit:
            pytest.fail(f"{name}: slmq cannot parse {command}")
        if command[0] == "worker":
            fleet.model(args.model)  # raises for a model fleet.toml does not declare


def test_the_image_installs_the_worker_and_monitor_extras_and_runs_slmq() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'pip install ".[worker,monitor]"' in dockerfile
    assert 'ENTRYPOINT ["slmq"]' in dockerfile
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (REPO / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_each_model_has_a_cpu_worker_and_there_is_an_example_gpu_worker(compose: dict[str, Any]) -> None:
    workers = [s for s in slmq_services(compose).values() if s["command"][0] == "worker"]
    cpu_models = {_option(w["command"], "--model") for w in workers if _option(w["command"], "--device") == "cpu"}
    assert cpu_models == set(load_fleet(REPO / "fleet.toml").models)
    gpu = [w for w in workers if str(_option(w["command"], "--device")).startswith("cuda:")]
    assert len(gpu) == 1
    assert gpu[0]["profiles"] == ["gpu"], "the GPU worker must not start on a host without a GPU"
    assert gpu[0]["environment"]["CUDA_VISIBLE_DEVICES"] == "0"
    (device,) = gpu[0]["deploy"]["resources"]["reservations"]["devices"]
    assert device["capabilities"] == ["gpu"] and device["device_ids"] == ["0"]


def test_redis_persists_every_write_needs_a_password_and_never_evicts(compose: dict[str, Any]) -> None:
    command = compose["services"]["redis"]["command"]
    assert _option(command, "--appendonly") == "yes"
    assert _option(command, "--maxmemory-policy") == "noeviction"
    assert str(_option(command, "--requirepass")).startswith("${SLMQ_REDIS_PASSWORD:?")
    for service in slmq_services(compose).values():
        assert service["environment"]["SLMQ_BROKER_URL"].startswith("redis://:${SLMQ_REDIS_PASSWORD:?")


def test_flower_needs_credentials_and_nothing_is_published_beyond_loopback(compose: dict[str, Any]) -> None:
    flower = compose["services"]["flower"]
    assert "--allow-control" not in flower["command"]
    for variable in ("SLMQ_FLOWER_USER", "SLMQ_FLOWER_PASSWORD"):
        assert flower["environment"][variable] == f"${{{variable}:?set {variable}}}"
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def _option(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None
