"""Job input and output files: JSONL ``{"id", "text"}``, a folder of ``.txt``/``.eml`` notes, OpenAI batch files.

Inputs are read as a stream of ``Line``s (memory stays flat however long the file); a line that cannot
become a payload carries the error that refuses it, so every input line gets an output record.
The checks of the files and folders a command is given (``input_file``, ``output_file``, ...) are here too.
"""

import codecs
import email
import email.policy
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from slmq.errors import ConfigError, InputFormatError, InvalidPayloadError, SlmqError

FORMATS = ("jsonl", "openai", "folder")
NOTE_SUFFIXES = (".txt", ".eml")
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")


@dataclass(frozen=True)
class Line:
    """One input item: its 0-based position, its id (``id``, ``custom_id`` or file name) and its payload."""

    index: int
    id: str
    payload: dict[str, Any] | SlmqError


def json_lines(path: Path, error: type[SlmqError], remedy: str) -> Iterator[tuple[int, Any]]:
    """Each non-blank line of the JSONL file ``path``, parsed, with its number from 1.

    A line that is not JSON raises ``error`` naming the line and the file, then ``remedy``.
    """
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"Line {number} of {path} is not JSON ({exc.msg}); {remedy}.") from None


def detect_format(source: Path) -> str:
    """``folder`` for a directory or a single note file, ``openai`` when the first line has a ``custom_id``."""
    if source.is_dir() or source.suffix.lower() in NOTE_SUFFIXES:
        return "folder"
    if not source.exists():
        raise InputFormatError(f"No input at {source}; give a JSONL file, an OpenAI batch file or a folder of notes.")
    input_file(source)
    with source.open(encoding="utf-8", errors="replace") as lines:
        first = next((line for line in lines if line.strip()), "")
    if not first:
        raise InputFormatError(f"{source} is empty; a job needs at least one line.")
    try:
        item = json.loads(first)
    except json.JSONDecodeError:
        return "jsonl"  # the bad line becomes an error record, like `slmq parse` does
    return "openai" if isinstance(item, dict) and "custom_id" in item else "jsonl"


def read_lines(source: Path, format: str, fields: set[str]) -> Iterator[Line]:
    """The input's lines, each with only the task's ``fields`` in its payload."""
    if format == "folder":
        return _read_notes(source)
    if format not in FORMATS:
        raise InputFormatError(f"Unknown input format {format!r}; use one of: {', '.join(FORMATS)}.")
    input_file(source)
    return _read_json_lines(source, fields, openai=format == "openai")


def job_id(task: str, lines: Iterator[Line]) -> tuple[str, int]:
    """A job's id from its task type and content (same file, same task: same job), and its line count."""
    digest = hashlib.sha256(task.encode())
    total = 0
    for line in lines:
        payload = line.payload if isinstance(line.payload, dict) else {"error": line.payload.message}
        digest.update(json.dumps([line.id, payload], sort_keys=True, ensure_ascii=False).encode("utf-8", "replace"))
        total += 1
    if total == 0:
        raise InputFormatError("The input has no lines (or no .txt/.eml files); a job needs at least one.")
    return f"{task}-{digest.hexdigest()[:16]}", total


def output_record(record: dict[str, Any], format: str) -> dict[str, Any]:
    """A line's stored record as the output file shows it: slmq's own, or an OpenAI batch output line."""
    if format != "openai":
        return record
    request_id = f"{record['job']}-{record['line']}"
    if record["error"] is not None:
        error = {"code": record["error"]["type"], "message": record["error"]["message"]}
        return {"id": request_id, "custom_id": record["id"], "response": None, "error": error,
                "provenance": record["provenance"]}  # fmt: skip
    body = {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": int(record["provenance"].get("finished_at") or time.time()),
        "model": record["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": json.dumps(record["result"], ensure_ascii=False)},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": None,
        "system_fingerprint": record["provenance"].get("prompt_version"),
    }
    response = {"status_code": 200, "request_id": request_id, "body": body}
    confidence = {"confidence": record["confidence"]} if "confidence" in record else {}
    return {"id": request_id, "custom_id": record["id"], "response": response, **confidence, "error": None,
            "provenance": record["provenance"]}  # fmt: skip


def lowest_confidence(record: dict[str, Any]) -> float | None:
    """The least sure field or item of an output line's ``confidence``; None when the line has none."""
    confidence = record.get("confidence")
    if not isinstance(confidence, dict):
        return None
    values = [value for key, value in confidence.items() if key != "items"] + list(confidence.get("items") or [])
    return min(values, default=1.0)


def for_review(record: dict[str, Any], below: float) -> bool:
    """Whether an output line's result goes to a person: a field or item below ``below``, or no confidence.

    A line with an error has no record to review; it stays with the others (``slmq job retry``, ``slmq dlq``).
    """
    if record.get("error") is not None:
        return False
    lowest = lowest_confidence(record)
    return lowest is None or lowest < below


class OutputLines:
    """Writes output lines to one file (or stdout), and those ``for_review`` to a review file beside it.

    With ``review_below`` None every line goes to the output. The review file is ``review``, else the output's
    name with ``.review`` before its suffix; with output on stdout, ``review`` must be given.
    """

    def __init__(self, output: Path | None, review_below: float | None = None, review: Path | None = None) -> None:
        if review_below is not None and review is None:
            if output is None:
                raise ConfigError("--review-below needs --review FILE when the output goes to stdout.")
            review = output.with_name(f"{output.stem}.review{output.suffix or '.jsonl'}")
        self.review_below = review_below
        self.review_path = review if review_below is not None else None
        self.written = self.reviewed = 0
        self._output: IO[str] = output.open("w", encoding="utf-8") if output is not None else sys.stdout
        self._review: IO[str] | None = None
        if self.review_path is not None:
            self._review = output_file(self.review_path).open("w", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        review = self._review is not None and self.review_below is not None and for_review(record, self.review_below)
        target = self._review if review and self._review is not None else self._output
        target.write(json.dumps(record, ensure_ascii=False) + "\n")
        target.flush()
        self.reviewed += review
        self.written += not review

    def summary(self) -> str:
        """``, N sent to review (FILE)`` when reviewing, else nothing."""
        return f", {self.reviewed} sent to review ({self.review_path})" if self.review_path is not None else ""

    def close(self) -> None:
        if self._output is not sys.stdout:
            self._output.close()
        if self._review is not None:
            self._review.close()

    def __enter__(self) -> "OutputLines":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_json_lines(source: Path, fields: set[str], openai: bool) -> Iterator[Line]:
    index = 0
    with source.open(encoding="utf-8", errors="surrogateescape") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            yield _openai_line(index, number, text) if openai else _jsonl_line(index, number, text, fields)
            index += 1


def _jsonl_line(index: int, number: int, text: str, fields: set[str]) -> Line:
    try:
        item = json.loads(text)
    except json.JSONDecodeError as exc:
        return Line(index, f"line-{number}", InvalidPayloadError(f"Line {number} is not JSON ({exc.msg}); fix it."))
    if not isinstance(item, dict) or "text" not in item:
        line_id = str(item.get("id", f"line-{number}")) if isinstance(item, dict) else f"line-{number}"
        error = InvalidPayloadError(f'Line {number} has no "text" field; lines are {{"id": ..., "text": ...}}.')
        return Line(index, line_id, error)
    return Line(index, str(item.get("id", f"line-{number}")), {k: v for k, v in item.items() if k in fields})


def _openai_line(index: int, number: int, text: str) -> Line:
    try:
        item = json.loads(text)
    except json.JSONDecodeError as exc:
        return Line(index, f"line-{number}", InvalidPayloadError(f"Line {number} is not JSON ({exc.msg}); fix it."))
    custom_id = str(item.get("custom_id", f"line-{number}")) if isinstance(item, dict) else f"line-{number}"
    body = item.get("body") if isinstance(item, dict) else None
    messages = body.get("messages") if isinstance(body, dict) else None
    users = [m for m in messages or [] if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        return Line(index, custom_id, InvalidPayloadError(
            f"Line {number} ({custom_id}) has no user message in body.messages; slmq takes the last user message "
            "of a /v1/chat/completions request as the task's text."
        ))  # fmt: skip
    return Line(index, custom_id, {"text": _content_text(users[-1].get("content"))})


def _content_text(content: Any) -> str:
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def _read_notes(source: Path) -> Iterator[Line]:
    if source.is_file():
        files = [source]
    elif source.is_dir():
        input_source(source)
        files = sorted(path for path in source.iterdir() if path.is_file() and path.suffix.lower() in NOTE_SUFFIXES)
    else:
        raise InputFormatError(f"No input at {source}.")
    for index, path in enumerate(files):
        try:
            text = _eml_text(path) if path.suffix.lower() == ".eml" else path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            yield Line(index, path.name, InvalidPayloadError(f"Cannot read {path.name} as UTF-8 text: {exc}."))
            continue
        yield Line(index, path.name, {"text": text.strip()})


def _eml_text(path: Path) -> str:
    """An e-mail's subject and plain-text body (its HTML part only when it has no plain one)."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain", "html")) if hasattr(message, "get_body") else None
    text = body.get_content() if body is not None else ""
    subject = message.get("subject")
    return f"Subject: {subject}\n\n{text}" if subject else str(text)


# The files and folders a command is given, checked before it connects to anything: each check returns the
# path or raises one sentence that names it and says what is wrong. They are argparse ``type=`` functions too.


def input_file(path: str | Path) -> Path:
    """A file that exists, is not a folder and can be opened for reading."""
    path = Path(path)
    if not path.exists():
        raise InputFormatError(f"No input file at {path}; check the path.")
    if path.is_dir():
        raise InputFormatError(f"{path} is a directory; give a file.")
    if not path.is_file():
        raise InputFormatError(f"{path} is not a regular file; give a file.")
    try:
        path.open("rb").close()
    except OSError as exc:
        raise InputFormatError(f"Cannot read {path}: {exc.strerror or exc}; check its permissions.") from None
    return path


def utf8_file(path: str | Path) -> Path:
    """An ``input_file`` whose bytes are UTF-8 text, for readers that decode it strictly."""
    path = input_file(path)
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = offset + exc.start
                raise InputFormatError(
                    f"{path} is not UTF-8 text (byte 0x{chunk[exc.start]:02x} at offset {at}); save it as UTF-8."
                ) from None
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputFormatError(f"{path} is not UTF-8 text (it ends inside a character); save it as UTF-8.") from None
    return path


def input_source(path: str | Path) -> Path:
    """A readable file, or a folder whose entries can be listed (a job's folder of notes)."""
    path = Path(path)
    if not path.is_dir():
        if not path.exists():
            raise InputFormatError(
                f"No file or folder at {path}; give a JSONL file, an OpenAI batch file or a folder of notes."
            )
        return input_file(path)
    try:
        with os.scandir(path):
            pass
    except OSError as exc:
        reason = exc.strerror or exc
        raise InputFormatError(f"Cannot read the folder {path}: {reason}; check its permissions.") from None
    return path


def output_file(path: str | Path) -> Path:
    """A file that can be written: not a folder, in a folder that exists and is writable."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path} is a directory; give a file name to write to.")
    folder = path.parent
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigError(f"Cannot write {path}: its folder {folder} {why}; create it first or choose another path.")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"Cannot write {path}: the file is not writable; check its permissions.")
    if not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"Cannot write {path}: its folder {folder} is not writable; choose another path.")
    return path


def output_dir(path: str | Path) -> Path:
    """A folder that can be written, or created (with its parents) where the nearest existing one is writable."""
    path = Path(path)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"Cannot write into {path}: {existing} is a file, not a folder; choose another path.")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "the folder" if existing == path else f"its parent {existing}"
        raise ConfigError(f"Cannot write into {path}: {what} is not writable; choose another path.")
    return path


def adapter_dir(path: str | Path) -> Path:
    """A LoRA adapter folder written by ``slmq finetune``: its weights and config, readable."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"No adapter directory at {path}; give a directory written by slmq finetune.")
    if not path.is_dir():
        raise ConfigError(f"{path} is a file, not an adapter directory; give a directory written by slmq finetune.")
    if not all((path / name).is_file() for name in ADAPTER_FILES):
        raise ConfigError(
            f"No adapter in {path} ({' and '.join(ADAPTER_FILES)}); give a directory written by slmq finetune."
        )
    for name in ADAPTER_FILES:
        try:
            (path / name).open("rb").close()
        except OSError as exc:
            raise ConfigError(f"Cannot read {path / name}: {exc.strerror or exc}; check its permissions.") from None
    return path
