"""The worker refuses a celery or kombu outside the releases its transport is written against, and says which."""

import tomllib

import pytest

from slmq.errors import ConfigError
from tests.conftest import REPO
from workers.versions import TESTED, check_versions, release


def test_the_installed_celery_and_kombu_are_the_tested_ones() -> None:
    check_versions()


@pytest.mark.parametrize("found", ["5.6.2", "5.8.0", "6.0.0b1"])
def test_a_kombu_outside_the_tested_range_is_refused_with_both_versions(found: str) -> None:
    installed = {"kombu": found, "celery": "5.7.0"}
    with pytest.raises(ConfigError, match=f"kombu>=5.7.0,<5.8 .* but kombu {found} is installed; install a tested"):
        check_versions(installed.__getitem__)


def test_pyproject_pins_the_ranges_the_worker_checks() -> None:
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for package, (lowest, below) in TESTED.items():
        pins = [dep for dep in dependencies if dep.split("[")[0].split(">")[0] == package]
        assert len(pins) == 1 and pins[0].endswith(f">={lowest},<{below}"), (package, pins)


def test_a_release_is_its_leading_numbers() -> None:
    assert release("5.7.0rc1") == (5, 7, 0) and release("5.8") == (5, 8) and release("dev") == ()
