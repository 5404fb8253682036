"""`slmq flower` in a real headless Chromium: the fleet's workers and tasks behind basic auth.

Needs Debian's chromium (`apt-get install chromium`; `.ci/run` installs it) and Playwright for
Python, driven with that executable: no browser is downloaded. Set SLMQ_FLOWER_SCREENSHOT to a path
to keep the screenshot (docs/flower.png was taken so); by default it goes to the test's temp dir.
"""

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from producer import FleetClient
from slmq.schemas import DeliveryNote
from tests.integration.conftest import TINY_FLEET, Deployment, StartWorker, make_deployment

CHROMIUM = Path("/usr/bin/chromium")
USER = "operator"
PASSWORD = secrets.token_urlsafe(16)
NOTE = "12 pallets of A4 paper to Acme Ltd, 14 Harbour Rd, Leith"
TIMEOUT_S = 60
# Constrained, the random model writes a valid record of several hundred tokens (its strings run to their bound).
FLEET = TINY_FLEET.replace("max_new_tokens = 48\ncontext_limit = 512", "max_new_tokens = 800\ncontext_limit = 1024")
NOTE_TIMEOUT_S = 300  # a record of ~700 tokens: seconds on an idle CI box, minutes on a loaded one


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, module_redis_url: str, tiny_model_dir: Path) -> Deployment:
    assert FLEET != TINY_FLEET
    return make_deployment(tmp_path_factory.mktemp("flower"), module_redis_url, tiny_model_dir, fleet=FLEET)


@pytest.fixture(scope="module")
def flower(deployment: Deployment, start_worker: StartWorker) -> Iterator[str]:
    """Workers named <model>@cpu, then `slmq flower` on a free loopback port; yields its base URL."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {CHROMIUM}; .ci/run installs Debian's chromium")
        pytest.skip(f"no {CHROMIUM}; apt-get install chromium")
    for model in ("tiny", "tiny-notes"):
        start_worker(model, node=f"{model}@cpu")
    port = free_port()
    env = {**deployment.env, "SLMQ_FLOWER_USER": USER, "SLMQ_FLOWER_PASSWORD": PASSWORD}
    log_path = deployment.home / "flower.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "slmq", "flower", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{base}/healthcheck", process, log_path)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answers(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"slmq flower did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def authorised(url: str, method: str = "GET", auth: str | None = None) -> urllib.request.Request:
    request = urllib.request.Request(url, method=method)
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    return request


def status(url: str, method: str = "GET", auth: str | None = None) -> int:
    try:
        with urllib.request.urlopen(authorised(url, method, auth), timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_for_states(flower: str, expected: dict[str, str]) -> None:
    """Flower learns a task's state from worker events, which may arrive after the result is stored."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        with urllib.request.urlopen(authorised(f"{flower}/api/tasks", auth=f"{USER}:{PASSWORD}"), timeout=10) as reply:
            tasks = json.load(reply)
        states = {task_id: tasks.get(task_id, {}).get("state") for task_id in expected}
        if states == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Flower shows {states}, expected {expected}")
        time.sleep(0.5)


def test_without_credentials_the_ui_and_the_api_answer_401(flower: str) -> None:
    for path in ("/", "/workers", "/tasks", "/api/workers", "/api/tasks"):
        assert status(flower + path) == 401, path
        assert status(flower + path, auth=f"{USER}:wrong") == 401, path
    assert status(flower + "/api/workers", auth=f"{USER}:{PASSWORD}") == 200


def test_control_operations_are_refused_unless_allowed(flower: str) -> None:
    assert status(f"{flower}/api/worker/shutdown/tiny@cpu", "POST", auth=f"{USER}:{PASSWORD}") == 403


def test_an_operator_sees_the_fleet_and_its_tasks_without_the_note_text(
    flower: str, deployment: Deployment, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            http_credentials={"username": USER, "password": PASSWORD}, viewport={"width": 1400, "height": 700}
        )
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_S * 1000)
        expect.set_options(timeout=TIMEOUT_S * 1000)
        # Given an operator logged in, the workers appear by their <model>@<device> names
        page.goto(f"{flower}/workers")
        for node in ("tiny@cpu", "tiny-notes@cpu"):
            expect(page.get_by_role("link", name=f"Worker {node}", exact=True)).to_be_visible()
        # When a sentiment task and a delivery note succeed (decoded against the record's schema, even the
        # tiny random model writes a valid delivery-note record)
        client = FleetClient(deployment.settings())
        review = client.submit("sentiment", "The pallets arrived crushed")
        note = client.submit("delivery_note", NOTE)
        review.get(timeout=TIMEOUT_S)
        assert isinstance(note.get(timeout=NOTE_TIMEOUT_S), DeliveryNote)
        wait_for_states(flower, {review.id: "SUCCESS", note.id: "SUCCESS"})
        # Then the tasks page shows both by task type and worker, with their states
        page.goto(f"{flower}/tasks")
        table = page.locator("#tasks-table")
        expect(table.get_by_text("slmq.sentiment")).to_be_visible()
        expect(table.get_by_text("slmq.delivery_note")).to_be_visible()
        expect(table.get_by_text("SUCCESS")).to_have_count(2)
        expect(table.get_by_text("tiny-notes@cpu")).to_be_visible()
        screenshot = Path(os.environ.get("SLMQ_FLOWER_SCREENSHOT", tmp_path / "flower.png"))
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot))
        # And a task's page shows its payload as a size, never the note text
        page.goto(f"{flower}/task/{note.id}")
        expect(page.get_by_text("slmq.delivery_note").first).to_be_visible()
        shown = page.inner_text("body")
        assert f"{{'payload': <{len(NOTE) + 12} bytes>}}" in shown
        assert "Acme" not in shown and "pallets" not in shown
        # And no result either: a delivery-note record quotes the note
        assert "consignee" not in shown
        browser.close()
