"""Model sources refuse what cannot be trusted or loaded, with the fix in the message."""

from pathlib import Path

import pytest

from slmq.errors import ModelSourceError
from workers.model.sources import check_safetensors_dir


def test_a_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelSourceError, match=r"no config\.json"):
        check_safetensors_dir(tmp_path)


def test_pickled_weights_are_refused_with_how_to_convert_them(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04")
    with pytest.raises(ModelSourceError, match=r"pickled weights \(pytorch_model.bin\).*safe_serialization=True"):
        check_safetensors_dir(tmp_path)


def test_a_safetensors_directory_is_accepted(tiny_model_dir: Path) -> None:
    assert check_safetensors_dir(tiny_model_dir) == tiny_model_dir
