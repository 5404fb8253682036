"""Job inputs and outputs: JSONL, folders of .txt/.eml notes, OpenAI batch files; job ids from content."""

import json
from pathlib import Path

import pytest

from slmq.batchfile import detect_format, job_id, output_record, read_lines
from slmq.errors import InputFormatError, InvalidPayloadError

FIELDS = {"text"}


def write(path: Path, lines: list[object]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def test_jsonl_lines_keep_their_ids_and_only_the_tasks_fields_and_bad_lines_carry_their_error(tmp_path: Path) -> None:
    # Given a JSONL file with a good line, a line that is not JSON, a blank line and a line without text
    source = write(tmp_path / "in.jsonl", [{"id": 7, "text": "a", "label": "x"}, "nope", "", {"id": "c", "note": "b"}])
    # When it is read
    lines = list(read_lines(source, detect_format(source), FIELDS))
    # Then every non-blank line is there in order, with its id, its payload or the error that refuses it
    assert detect_format(source) == "jsonl"
    assert [(line.index, line.id) for line in lines] == [(0, "7"), (1, "line-2"), (2, "c")]
    assert lines[0].payload == {"text": "a"}
    assert isinstance(lines[1].payload, InvalidPayloadError) and "Line 2 is not JSON" in lines[1].payload.message
    assert isinstance(lines[2].payload, InvalidPayloadError) and '"text"' in lines[2].payload.message


def test_an_openai_batch_file_gives_the_last_user_message_as_text_and_keeps_custom_ids(tmp_path: Path) -> None:
    # Given an OpenAI batch file: a plain user message, content parts, and a request without a user message
    def request(custom_id: str, messages: list[dict[str, object]]) -> dict[str, object]:
        return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": {"messages": messages}}

    source = write(tmp_path / "batch.jsonl", [
        request("r1", [{"role": "system", "content": "s"}, {"role": "user", "content": "first"}]),
        request("r2", [{"role": "user", "content": [{"type": "text", "text": "part one"},
                                                    {"type": "text", "text": "two"}]}]),
        request("r3", [{"role": "system", "content": "only a system message"}]),
    ])  # fmt: skip
    # When it is read
    lines = list(read_lines(source, detect_format(source), FIELDS))
    # Then the format is detected and each request's user text becomes the payload
    assert detect_format(source) == "openai"
    assert [line.id for line in lines] == ["r1", "r2", "r3"]
    assert lines[0].payload == {"text": "first"} and lines[1].payload == {"text": "part one\ntwo"}
    assert isinstance(lines[2].payload, InvalidPayloadError) and "no user message" in lines[2].payload.message


def test_a_folder_gives_one_note_per_txt_or_eml_file_in_name_order(tmp_path: Path) -> None:
    # Given a folder with a .txt note, an .eml note, and a file of another kind
    (tmp_path / "b.txt").write_text("  Ten boxes to dock 3.  \n")
    (tmp_path / "a.eml").write_text(
        "From: depot@example.com\nSubject: Delivery 42\nContent-Type: text/plain\n\nTwo pallets, leave at gate.\n"
    )
    (tmp_path / "c.pdf").write_bytes(b"%PDF")
    # When it is read
    lines = list(read_lines(tmp_path, detect_format(tmp_path), FIELDS))
    # Then each note file is a line, the e-mail with its subject and body
    assert detect_format(tmp_path) == "folder"
    assert [line.id for line in lines] == ["a.eml", "b.txt"]
    assert lines[0].payload == {"text": "Subject: Delivery 42\n\nTwo pallets, leave at gate."}
    assert lines[1].payload == {"text": "Ten boxes to dock 3."}


def test_a_jobs_id_depends_on_the_content_and_the_task_type_only(tmp_path: Path) -> None:
    # Given two files with the same content at different paths, and one with a line changed
    notes = [{"id": n, "text": f"note {n}"} for n in range(3)]
    first, copy = write(tmp_path / "a.jsonl", notes), write(tmp_path / "b.jsonl", notes)
    changed = write(tmp_path / "c.jsonl", [*notes[:2], {"id": 2, "text": "note 2!"}])

    def identity(path: Path, task: str = "sentiment") -> tuple[str, int]:
        return job_id(task, read_lines(path, "jsonl", FIELDS))

    # Then the same content for the same task type is the same job, anything else is another
    assert identity(first) == identity(copy) and identity(first)[1] == 3
    assert identity(first)[0].startswith("sentiment-")
    assert identity(first) != identity(changed)
    assert identity(first)[0] != identity(first, "summarize")[0]


def test_an_empty_input_is_refused_with_what_to_do(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(InputFormatError, match="empty"):
        detect_format(empty)
    with pytest.raises(InputFormatError, match="No input"):
        detect_format(tmp_path / "missing.jsonl")
    with pytest.raises(InputFormatError, match="no lines"):
        job_id("sentiment", read_lines(tmp_path, "folder", FIELDS))


def test_openai_output_lines_carry_the_result_as_a_chat_completion_and_errors_as_errors() -> None:
    # Given a stored record with a result and one with an error
    provenance = {"model": "tiny", "prompt_version": "abc", "finished_at": 1700000000.0}
    ok = {"job": "j", "line": 0, "id": "r1", "task": "sentiment", "model": "tiny",
          "result": {"label": "positive", "score": 0.9}, "error": None, "provenance": provenance}  # fmt: skip
    failed = ok | {"line": 1, "id": "r2", "result": None, "error": {"type": "InvalidPayloadError", "message": "m"}}
    # When they are written for an OpenAI input, and for a JSONL input
    line, error = output_record(ok, "openai"), output_record(failed, "openai")
    # Then they follow OpenAI's batch output format, and slmq's own records stay as they are
    assert line["custom_id"] == "r1" and line["error"] is None and line["response"]["status_code"] == 200
    message = line["response"]["body"]["choices"][0]["message"]
    assert message["role"] == "assistant" and json.loads(message["content"]) == ok["result"]
    assert line["response"]["body"]["created"] == 1700000000 and line["provenance"] == provenance
    assert error["response"] is None and error["error"] == {"code": "InvalidPayloadError", "message": "m"}
    assert output_record(ok, "jsonl") is ok
