"""What a non-editable install (the Docker image's ``pip install .``) holds: every module of the source tree."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("slmq", "producer", "workers")


def repository_files() -> list[str]:
    """What a clone holds (tracked files and untracked ones git does not ignore)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return [path for path in listed.stdout.splitlines() if (ROOT / path).is_file()]


def test_the_wheel_holds_every_module_of_the_packages(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: a build/ folder left in the checkout would hide a missing package
    files = repository_files()
    for path in files:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, source / path)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("slmq-*.whl")
    held = set(zipfile.ZipFile(wheel).namelist())
    wanted = {path for path in files if path.split("/")[0] in PACKAGES and path.endswith((".py", "py.typed"))}
    assert "workers/model/engine/engine.py" in wanted
    assert sorted(wanted - held) == []
    assert "celeryconfig.py" in held
