"""One JSONL reader (``restrl_eval.jsonl``) behind every reader of a JSONL file: samples
(``evaluate``), task files, SFT records and scorer records, and the append-only logs of
collections. The same bad line gives the same ``FILE:LINE: ...`` error, as each reader's
own error class."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from restrl_eval.benchmarks import BenchmarkError
from restrl_eval.benchmarks.tasks import load_task_file
from restrl_eval.jsonl import iter_jsonl, read_log
from restrl_train.data.records import DataError, load_records
from restrl_train.data.values import RecordFileError, ValueRecordFile
from restrl_train.sft.records import SFTDataError
from restrl_train.sft.records import load_records as load_sft

GOOD = {"task_id": "T/0", "prompt": "p", "solution": "x = 1\n", "tests": ["assert True"], "kind": "outcome",
        "problem": "p", "code": "x = 1", "reward": 1.0, "passed": True}
READERS = [
    (lambda p: load_task_file(p), BenchmarkError),
    (lambda p: load_sft(str(p)), SFTDataError),
    (lambda p: load_records([p]), DataError),
    (lambda p: list(iter_jsonl(p, ValueError)), ValueError),
]


@pytest.mark.parametrize("bad, needle", [
    (b'{"task_id": ', "not valid JSON (Expecting value at column 13)"),
    (b"[1, 2]", "expected a JSON object, got list"),
    (b'{"task_id": "\xff"}', "not valid UTF-8"),
])
@pytest.mark.parametrize("read, error", READERS)
def test_every_reader_names_file_and_line_alike(tmp_path: Path, read, error, bad: bytes, needle: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n\n" + bad + b"\n")
    with pytest.raises(error) as exc:
        read(path)
    assert str(exc.value) == f"{path}:3: {needle}"


@pytest.mark.parametrize("read, error", READERS)
def test_a_missing_file_is_one_line(tmp_path: Path, read, error) -> None:
    with pytest.raises(error, match=r"missing\.jsonl: no such file$"):
        read(tmp_path / "missing.jsonl")


def test_the_evaluate_wording_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"a": 1}\n{not json\n')
    with pytest.raises(KeyError, match=r"s\.jsonl:2: malformed JSON \("):
        list(iter_jsonl(path, KeyError, invalid="malformed JSON"))


def test_an_append_log_drops_only_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    assert read_log(path) == ([], False)
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": ')
    assert read_log(path) == ([{"a": 1}, {"a": 2}], True)
    path.write_text('{"a": 1}\n{"a": \n{"a": 3}\n')
    with pytest.raises(RecordFileError, match=r"log\.jsonl:2: not valid JSON"):
        ValueRecordFile(path, {"x": 1}).open()
