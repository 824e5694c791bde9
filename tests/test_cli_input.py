"""Input lines are strict (issue 12, item 5), and the failures file is the next run's
input (item 8)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from shopapi import DecodeError, JsonCodec
from shopapi._cli.app import UsageError
from shopapi._cli.input import FAILURE_KEY, failure_record, read_item, suggestion
from shopapi.testing import FakeShopServer, Fault
from tests.test_cli import PASSWORD, USER, run

ITEM = {"Id": 7, "ShopId": 1, "PlatformKindEnumValue": 0, "Note": "n", "Rating": 5}


def line(**members: object) -> bytes:
    return orjson.dumps({**ITEM, **members})


def test_a_known_line_reads_as_given() -> None:
    item = read_item(line() + b"\r\n")
    assert (item.changes.id, item.changes.shop_id, item.changes.note) == (7, 1, "n")
    assert item.members == ITEM
    assert item.dropped == ()


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (line(CustomerEmial="a@b.c"), "CustomerEmial", "did you mean 'CustomerEmail'?"),
        (
            orjson.dumps({"Id": 7, "ShopId": 1, "PlatformKindEnumValue": 0, "note": "x"}),
            "note",
            "did you mean 'Note'?",
        ),
        (line(Frobnicate=1), "Frobnicate", "unknown member 'Frobnicate';"),
        (line(Rating="5"), "Rating", "expected an integer or null, got a string"),
        (line(Rating=4.0), "Rating", "expected an integer or null, got a number"),
        (line(Note=["a"]), "Note", "expected a string or null, got an array"),
        (line()[:-1] + b',"Note":"again"}', "Note", "given twice"),
        (b'{"ShopId": 1, "PlatformKindEnumValue": 0}', "Id", "is required"),
    ],
    ids=[
        "typo",
        "case",
        "unknown",
        "string-for-int",
        "float-for-int",
        "array",
        "duplicate",
        "missing",
    ],
)
def test_a_bad_line_is_refused_naming_the_member(raw: bytes, field: str, words: str) -> None:
    with pytest.raises(DecodeError) as info:
        read_item(raw)
    assert info.value.field == field
    assert words in str(info.value)


@pytest.mark.parametrize(
    "raw",
    [
        line()[:-1] + b',"N\\u006fte":"b"}',  # the same key, spelled with an escape
        line()[:-1] + b',"Note":"Note"}',
        b'{"Note":"a \\"Note\\" b",' + line()[1:],
    ],
    ids=["escaped", "key-as-value", "quoted-in-a-string"],
)
def test_a_duplicate_is_found_however_it_is_spelled(raw: bytes) -> None:
    with pytest.raises(DecodeError, match="given twice") as info:
        read_item(raw)
    assert info.value.field == "Note"


@pytest.mark.parametrize(
    "raw",
    [line(Note="Note"), line(Note='say "Note" twice'), line(Note="\\Note\\")],
    ids=["key-as-value", "quoted", "backslashes"],
)
def test_a_key_named_in_a_value_is_no_duplicate(raw: bytes) -> None:
    assert read_item(raw).changes.note == orjson.loads(raw)["Note"]


def test_unknown_members_name_the_option_that_lets_them_through() -> None:
    with pytest.raises(DecodeError) as info:
        read_item(line(CustomerEmial="a", Priority=2))
    text = str(info.value)
    assert "unknown members 'CustomerEmial' (did you mean 'CustomerEmail'?), 'Priority'" in text
    assert "--allow-unknown-members" in text


def test_the_option_drops_unknown_members_and_says_which() -> None:
    item = read_item(line(Priority=2, Colour="red"), allow_unknown=True)
    assert item.dropped == ("Priority", "Colour")
    assert item.changes.note == "n"
    assert b"Priority" not in JsonCodec().encode(item.changes)  # not sent: see _input


def test_near_misses() -> None:
    assert suggestion("customeremail") == "CustomerEmail"
    assert suggestion("CustomerEmial") == "CustomerEmail"
    assert suggestion("Ratting") == "Rating"
    assert suggestion("Zebra") is None


def test_a_failure_record_is_the_item_plus_its_error_and_reads_back() -> None:
    raw = line(CustomerEmail="x@y.z")
    record = failure_record(raw, None, {"line": 3, "error": "ServerError"})
    members = orjson.loads(record)
    assert list(members)[:-1] == list(orjson.loads(raw))  # the original members, in order
    assert members[FAILURE_KEY] == {"line": 3, "error": "ServerError"}
    assert read_item(record).changes == read_item(raw).changes  # the reader ignores it
    # A second failure replaces the first record's error instead of adding a second one.
    again = orjson.loads(failure_record(record, None, {"line": 1, "error": "NotFoundError"}))
    assert again[FAILURE_KEY] == {"line": 1, "error": "NotFoundError"}


def test_a_line_that_is_not_an_object_is_kept_as_text() -> None:
    record = failure_record(b'{"Id": 3, \r\n', None, {"line": 2, "error": "DecodeError"})
    assert orjson.loads(record) == {
        FAILURE_KEY: {"line": 2, "error": "DecodeError", "text": '{"Id": 3, '}
    }
    with pytest.raises(DecodeError) as info:
        read_item(record)
    assert "replace this record with the corrected item" in str(info.value)


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        srv.seed(20, shop_id=1)
        yield srv


def conversation_line(server: FakeShopServer, cid: int, **members: object) -> bytes:
    conversation = server.get(1, cid)
    assert conversation is not None
    return orjson.dumps(
        {**orjson.loads(JsonCodec().encode(conversation.to_changes(note=f"cli {cid}"))), **members}
    )


async def test_a_typo_fails_its_line_alone_and_sends_nothing_for_it(
    server: FakeShopServer, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    email = server.get(1, 2).customer_email  # type: ignore[union-attr]
    good = conversation_line(server, 1)
    typo = conversation_line(server, 2)
    typo = typo.replace(b'"CustomerEmail"', b'"CustomerEmial"')
    path.write_bytes(good + b"\n" + typo + b"\n" + conversation_line(server, 3) + b"\n")
    code, err = await run(server, str(path))
    assert code == 1
    assert "saved 2, failed 1" in err
    assert "failed: line 2: DecodeError: CustomerEmial: unknown member" in err
    assert "did you mean 'CustomerEmail'?" in err
    assert "--allow-unknown-members" in err
    assert sorted(r.conversation_id or 0 for r in server.requests) == [1, 3]
    assert server.get(1, 2).customer_email == email  # type: ignore[union-attr]


async def test_the_option_sends_the_known_members_and_warns_once_per_name(
    server: FakeShopServer, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(conversation_line(server, c, Priority=c) + b"\n" for c in (1, 2, 3)))
    code, err = await run(server, "--allow-unknown-members", str(path))
    assert code == 0, err
    assert "saved 3, failed 0" in err
    assert err.count("unknown member 'Priority' left out") == 1
    assert all(server.get(1, c).note == f"cli {c}" for c in (1, 2, 3))  # type: ignore[union-attr]


async def test_fix_and_rerun_the_failures(server: FakeShopServer, tmp_path: Path) -> None:
    """The bulk jobs guide's command: rename the failures file, then run it as the input."""
    path, failed, retry = tmp_path / "in.jsonl", tmp_path / "failed.jsonl", tmp_path / "retry.jsonl"
    lines = [conversation_line(server, c) for c in range(1, 11)]
    lines[3] = lines[3].replace(b'"Note"', b'"note"')  # a typo the user will fix
    lines[6] = b'{"Id": 7, "ShopId": 1,'  # cut short: kept as text
    path.write_bytes(b"\n".join(lines) + b"\n")
    server.inject(Fault.status(503), Fault.status(503), conversation_id=5)  # transient
    server.inject(Fault.status(400), conversation_id=9)  # refused once
    code, err = await run(server, "--max-attempts", "2", "--failures", str(failed), str(path))
    assert code == 1
    assert "saved 6, failed 4" in err
    records = [orjson.loads(raw) for raw in failed.read_bytes().splitlines()]
    assert sorted(r[FAILURE_KEY]["line"] for r in records) == [4, 5, 7, 9]
    assert {r[FAILURE_KEY]["input"] for r in records} == {str(path)}

    # Running the failures file under its own name would truncate the input: refused.
    with pytest.raises(UsageError, match="is the input"):
        await run(server, "--failures", str(failed), str(failed))
    assert len(failed.read_bytes().splitlines()) == 4  # untouched

    # Fix the typo in the failures file, rename it and run it: the same one command.
    failed.write_bytes(failed.read_bytes().replace(b'"note"', b'"Note"'))
    failed.rename(retry)
    code, err = await run(server, "--failures", str(failed), str(retry))
    assert code == 1
    assert "saved 3, failed 1" in err
    [left] = [orjson.loads(raw) for raw in failed.read_bytes().splitlines()]
    assert left[FAILURE_KEY]["error"] == "DecodeError"
    assert left[FAILURE_KEY]["text"] == '{"Id": 7, "ShopId": 1,'
    for cid in (4, 5, 9):
        assert server.get(1, cid).note == f"cli {cid}"  # type: ignore[union-attr]


async def test_the_failures_file_is_truncated_each_run(
    server: FakeShopServer, tmp_path: Path
) -> None:
    path, failed = tmp_path / "in.jsonl", tmp_path / "failed.jsonl"
    path.write_bytes(b"".join(conversation_line(server, c) + b"\n" for c in (1, 2)))
    server.inject(Fault.status(404), Fault.status(404), conversation_id=2)
    for _ in range(2):
        code, _err = await run(server, "--failures", str(failed), str(path))
        assert code == 1
        assert len(failed.read_bytes().splitlines()) == 1  # this run's failures only
