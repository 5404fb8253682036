"""Fixtures the browser test shares with the integration tests: real worker processes on the tiny model."""

from tests.integration.conftest import start_worker  # noqa: F401  (a fixture)
