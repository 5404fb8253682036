"""docker-compose.yml is valid Compose and runs only real slmq commands, with the deployment's safeguards."""

import argparse
import json
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import pytest
import yaml

from slmq.cli.main import _parser
from slmq.fleet import Fleet, load_fleet
from tests.conftest import REPO
from tests.unit.dockerimage import build_image, ignore_patterns, ignored
from workers.model.tagger import CONFIG, HEAD, LORA

SCHEMA = Path(__file__).parent / "data" / "compose-spec.json"
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")  # what ModelRunner.load reads
TAGGER_FILES = (CONFIG, LORA, HEAD)  # what workers.model.tagger.load_tagger reads


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
    build_image(REPO)  # raises for a COPY source that is missing or excluded by .dockerignore


def test_the_image_holds_every_path_the_shipped_fleet_file_names(compose: dict[str, Any]) -> None:
    # Given the image's files as the Dockerfile copies them, and where its services read the fleet file
    image = build_image(REPO)
    fleet_in_image = PurePosixPath(image.env["SLMQ_FLEET"])
    for service in slmq_services(compose).values():
        assert service["environment"]["SLMQ_FLEET"] == str(fleet_in_image)
        assert f"./fleet.toml:{fleet_in_image}:ro" in service["volumes"]
    assert image.files.get(fleet_in_image) == "fleet.toml"
    # When every path the shipped fleet file names is resolved as slmq resolves it, beside that file
    problems = missing_in_image(load_fleet(REPO / "fleet.toml"), image.files, fleet_in_image)
    # Then each of them is in the image
    assert not problems, "\n".join(problems)


def test_the_fleet_path_check_would_catch_a_path_source_or_adapter_the_image_lacks() -> None:
    fleet = Fleet.model_validate(
        {
            "models": {
                "local": {"source": "path:models/local", "adapter": "adapters/delivery_note"},
                "outside": {"source": "path:../elsewhere", "adapter": "/srv/adapter"},
            },
            "tasks": {},
            "path": REPO / "fleet.toml",
        }
    )
    problems = missing_in_image(fleet, {}, PurePosixPath("/app/fleet.toml"))
    assert any("models.local source models/local" in problem for problem in problems)
    assert any("/app/adapters/delivery_note/adapter_model.safetensors" in problem for problem in problems)
    assert sum("outside the repository" in problem for problem in problems) == 2


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("bench/models.py", True),
        ("workers/__pycache__/app.cpython-311.pyc", True),
        ("__pycache__/x.pyc", True),
        ("slmq.egg-info/PKG-INFO", True),
        ("nested/slmq.egg-info/PKG-INFO", False),
        ("adapters/delivery_note/adapter_model.safetensors", False),
        ("docs/keep.md", False),
        ("docs/other.md", True),
    ],
)
def test_dockerignore_patterns_match_as_docker_matches_them(path: str, excluded: bool) -> None:
    patterns = ignore_patterns("**/__pycache__\n*.egg-info\n/bench/\ndocs\n!docs/keep.md\n# a comment\n")
    assert ignored(path, patterns) is excluded


def missing_in_image(fleet: Fleet, files: dict[PurePosixPath, str], fleet_in_image: PurePosixPath) -> list[str]:
    """Each path ``fleet`` names (path: sources, adapters, taggers and their required files) the image lacks.

    Paths resolve as the worker resolves them (``Fleet.resolve``: beside the fleet file), so a path's place in
    the image is the same place beside ``fleet_in_image``; every file the repository has there must be there.
    """
    assert fleet.path is not None
    problems = []
    for name, spec in fleet.models.items():
        named: list[tuple[str, Path, tuple[str, ...]]] = []
        if spec.source.kind == "path":
            named.append(("source", Path(spec.source.location), ()))
        if spec.adapter is not None:
            named.append(("adapter", spec.adapter, ADAPTER_FILES))
        if spec.tagger is not None:
            named.append(("tagger", spec.tagger, TAGGER_FILES))
        for key, relative, required in named:
            resolved = fleet.resolve(relative)
            if not resolved.is_relative_to(fleet.path.parent):
                problems.append(f"models.{name} {key} {relative} resolves to {resolved}, outside the repository")
                continue
            inside = resolved.relative_to(fleet.path.parent).as_posix()
            in_repo = [p.relative_to(fleet.path.parent).as_posix() for p in resolved.rglob("*") if p.is_file()]
            wanted = {f"{inside}/{f}" for f in required} | set(in_repo)
            if not wanted:
                problems.append(f"models.{name} {key} {relative}: the repository has no file under {inside}")
            for path in sorted(wanted):
                if fleet_in_image.parent / path not in files:
                    problems.append(f"models.{name} {key} {relative}: the image lacks {fleet_in_image.parent / path}")
    return problems


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


def test_workers_per_host_is_the_number_of_cpu_workers_started_by_default(compose: dict[str, Any]) -> None:
    fleet = load_fleet(REPO / "fleet.toml")
    workers = [s for s in slmq_services(compose).values() if s["command"][0] == "worker" and not s.get("profiles")]
    devices = [
        _option(w["command"], "--device") or fleet.model(str(_option(w["command"], "--model"))).device for w in workers
    ]
    cpu = [device for device in devices if device == "cpu"]
    assert cpu, "compose starts no CPU worker"
    for name, service in slmq_services(compose).items():
        assert service["environment"]["SLMQ_WORKERS_PER_HOST"] == str(len(cpu)), name


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
