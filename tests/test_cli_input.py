"""Input lines are strict (issue 12, item 5), and the failures file is the next run's
input (item 8)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from shopapi import DecodeError, JsonCodec, XmlCodec, drop_unknown
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
    assert item.given == ITEM.keys()
    assert not item.changes.unknown


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


def test_the_option_keeps_unknown_members_as_they_were_written() -> None:
    raw = line()[:-1] + b',"Priority":12.50,"Thing":{"A": [1, 2.0], "B": null}}'
    item = read_item(raw, allow_unknown=True)
    assert item.changes.unknown.names() == ("Priority", "Thing")
    assert item.changes.note == "n"
    sent = JsonCodec().encode(item.changes)
    assert b',"Priority":12.50,"Thing":{"A": [1, 2.0], "B": null}' in sent


def test_a_failure_records_error_is_never_sent_with_kept_members() -> None:
    raw = failure_record(line(Priority=2), None, {"line": 3, "error": "ServerError"})
    item = read_item(raw, allow_unknown=True)
    assert item.changes.unknown.names() == ("Priority",)
    assert FAILURE_KEY.encode() not in JsonCodec().encode(item.changes)


def xml_line(**elements: str) -> bytes:
    """``ITEM`` as XmlSerializer writes it, with ``elements`` (raw XML) after ``ShopId``."""
    body = XmlCodec().encode(read_item(line()).changes)
    extra = "".join(elements.values()).encode()
    return body.replace(b"<ShopId>1</ShopId>", b"<ShopId>1</ShopId>" + extra)


def test_an_xml_line_reads_as_given() -> None:
    item = read_item(b"  " + xml_line() + b"\r\n")
    assert item.changes == read_item(line()).changes
    assert item.members is None  # its failure record keeps it as text
    assert {"Id", "ShopId", "Note", "CustomerEmail"} <= item.given  # a null string is absent


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (xml_line(a="<CustomerEmial>a</CustomerEmial>"), "CustomerEmial", "did you mean"),
        (xml_line(a="<Note>again</Note>"), "Note", "given twice"),
        (xml_line(a="<Rating>five</Rating>").replace(b"<Rating>5</Rating>", b""), "Rating", ""),
        (b"<MessageConversationChanges><Id>1</Id>", None, "malformed"),
    ],
)
def test_a_bad_xml_line_is_refused_naming_the_element(
    raw: bytes, field: str | None, words: str
) -> None:
    with pytest.raises(DecodeError) as info:
        read_item(raw)
    assert info.value.field == field
    assert words in str(info.value)
    assert info.value.media_type == "application/xml"


def test_the_option_keeps_unknown_xml_elements_as_they_came() -> None:
    thing = '<Thing kind="x"><A>a</A> <B>1.10</B></Thing>'
    raw = xml_line(p="<Priority>12.50</Priority>", t=thing)
    with pytest.raises(DecodeError, match="unknown members 'Priority', 'Thing'"):
        read_item(raw)
    item = read_item(raw, allow_unknown=True)
    assert item.changes.unknown.names() == ("Priority", "Thing")
    sent = XmlCodec().encode(item.changes)
    assert b"<ShopId>1</ShopId><Priority>12.50</Priority>" + thing.encode() in sent


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


#: Members a newer server has, as it wrote them: a decimal's scale and a nested object's
#: spacing are what a rewrite would lose.
NEWER_JSON = b',"Priority":12.50,"Thing":{"A": [1, 2.0], "B": {"C": null}}'
NEWER_XML = b'<Priority>12.50</Priority><Thing kind="x"><A>a</A> <B>1.10</B></Thing>'


def newer_line(server: FakeShopServer, cid: int, fmt: str) -> bytes:
    """Conversation ``cid``'s changes as a newer server's export writes them in ``fmt``,
    the newer members after ``ShopId``."""
    changes = server.get(1, cid).to_changes(note=f"cli {cid}")  # type: ignore[union-attr]
    if fmt == "json":
        return JsonCodec().encode(changes).replace(b',"ShopId":1', b',"ShopId":1' + NEWER_JSON)
    shop = b"<ShopId>1</ShopId>"
    return XmlCodec().encode(changes).replace(shop, shop + NEWER_XML)


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_the_option_sends_unknown_members_back_exactly(
    server: FakeShopServer, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(newer_line(server, c, fmt) + b"\n" for c in (1, 2, 3)))
    code, err = await run(server, "--format", fmt, "--allow-unknown-members", str(path))
    assert code == 0, err
    assert "saved 3, failed 0" in err
    newer = NEWER_JSON[1:] if fmt == "json" else NEWER_XML
    assert [r.body.count(newer) for r in server.requests] == [1, 1, 1]
    shop = b'"ShopId":1,' if fmt == "json" else b"<ShopId>1</ShopId>"
    assert all(shop + newer in r.body for r in server.requests)  # in place
    assert all(server.get(1, c).note == f"cli {c}" for c in (1, 2, 3))  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_unknown_members_are_refused_by_default(
    server: FakeShopServer, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(newer_line(server, 1, fmt) + b"\n" + conversation_line(server, 2) + b"\n")
    code, err = await run(server, "--format", fmt, str(path))
    assert code == 1
    assert "failed: line 1: DecodeError: Priority: unknown members 'Priority', 'Thing'" in err
    assert "--allow-unknown-members" in err
    assert [r.conversation_id for r in server.requests] == [2]


async def test_kept_members_never_go_out_in_the_other_format(
    server: FakeShopServer, tmp_path: Path
) -> None:
    """A JSON line's members are JSON text: sent as XML they would be invented, so the
    line fails alone, naming them, before anything is sent."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(newer_line(server, 1, "json") + b"\n" + newer_line(server, 2, "xml") + b"\n")
    code, err = await run(server, "--format", "xml", "--allow-unknown-members", str(path))
    assert code == 1, err
    assert "saved 1, failed 1" in err
    assert "failed: line 1 (shop 1, conversation 1): ValidationError" in err
    assert "Priority: is an unknown member kept as raw JSON, which XML cannot carry" in err
    assert [r.conversation_id for r in server.requests] == [2]


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


def test_an_xml_update_line_must_give_what_xmlserializer_always_writes() -> None:
    """A null string is an absent element in XML (so its absence is no gap), but a
    ``Nullable<T>`` is written as nil: an XML line without it would clear it unsaid."""
    from shopapi._cli.commands import derive
    from shopapi._cli.writing import reader
    from shopapi._resources import RESOURCES

    update = {c.name: c for c in derive(RESOURCES)}["conversations update"]
    read = reader(update, allow_unknown=False)
    members = ITEM | {"CreationDate": "2026-01-11T16:13:16.7386644+01:00"}
    full = XmlCodec().encode(read_item(orjson.dumps(members | {"CustomerEmail": "a@b"})).changes)
    without_email = read(full.replace(b"<CustomerEmail>a@b</CustomerEmail>", b""))
    assert without_email.changes == read_item(orjson.dumps(members)).changes
    with pytest.raises(DecodeError) as info:
        read(full.replace(b"<Rating>5</Rating>", b""))
    assert info.value.field == "Rating"
    assert info.value.media_type == "application/xml"
    assert "missing Rating: an update sends every member" in str(info.value)


def test_a_dry_run_compares_an_xml_line_with_kept_elements_to_a_json_export(
    tmp_path: Path,
) -> None:
    """The export is JSON: an XML line's kept elements are left out of the comparison
    (they have no JSON text), the known members are compared."""
    import io

    from shopapi._cli.commands import derive
    from shopapi._cli.dryrun import dry_run
    from shopapi._cli.writing import reader
    from shopapi._resources import RESOURCES

    update = {c.name: c for c in derive(RESOURCES)}["conversations update"]
    members = ITEM | {"CreationDate": "2026-01-11T16:13:16.7386644+01:00"}
    export = tmp_path / "export.jsonl"
    export.write_bytes(orjson.dumps(members) + b"\n")
    changed = read_item(orjson.dumps(members | {"Note": "new"})).changes
    shop = b"<ShopId>1</ShopId>"
    raw = XmlCodec().encode(changed).replace(shop, shop + NEWER_XML)
    stdout, stderr = io.BytesIO(), io.StringIO()
    code = dry_run(
        update,
        reader(update, allow_unknown=True),
        io.BytesIO(raw + b"\n"),
        codec=XmlCodec(),
        fmt="xml",
        options={},
        against=str(export),
        show=3,
        stdout=stdout,
        stderr=stderr,
    )
    assert code == 0, stderr.getvalue()
    assert stdout.getvalue() == b'line 1 (shop 1, conversation 7): Note: "n" -> "new"\n'


#: A body with nested models, list items and decimals (the probes), as a line.
PROBE_LINE = (
    b'{"Id":1,"ExchangeRate":1.10,"IsPaid":true,"OrderDate":"2026-01-01T00:00:00Z","Color":1,'
    b'"BillToAddress":{"Citty":"x","City":"y"},"OrderRows":[{"Id":1,"Quantity":1.50},'
    b'{"Id":2,"Quantity":2.0,"Txt":"a","DeliveryAddress":{"Zipp":1}}]}'
)


def test_a_decimal_member_keeps_its_scale() -> None:
    """Read as the codec reads the bytes: parsed as a float first, 1.10 would lose its
    scale (and the converter refuses a float for a decimal)."""
    from conformance.probes import ProbeOrder

    raw = PROBE_LINE.replace(b'"Citty":"x",', b"").replace(b',"Txt":"a"', b"")
    item = read_item(raw.replace(b',"DeliveryAddress":{"Zipp":1}', b""), model=ProbeOrder)
    assert str(item.changes.exchange_rate) == "1.10"
    assert b'"ExchangeRate":1.10,' in JsonCodec().encode(item.changes)


def test_a_nested_unknown_member_is_refused_by_default_and_kept_with_the_option() -> None:
    from conformance.probes import ProbeOrder

    with pytest.raises(DecodeError) as info:
        read_item(PROBE_LINE, model=ProbeOrder)
    assert info.value.field == "BillToAddress.Citty"
    assert (
        "unknown members 'BillToAddress.Citty' (did you mean 'BillToAddress.City'?), "
        "'OrderRows[1].Txt' (did you mean 'OrderRows[1].Text'?), "
        "'OrderRows[1].DeliveryAddress.Zipp'; nothing was sent" in str(info.value)
    )
    item = read_item(PROBE_LINE, model=ProbeOrder, allow_unknown=True)
    sent = JsonCodec().encode(item.changes)
    for kept in (b'{"Citty":"x","City":"y"', b'"Txt":"a"', b'{"Zipp":1,'):
        assert kept in sent

    city = b"<City>y</City>"
    xml = XmlCodec().encode(drop_unknown(item.changes)).replace(city, city + b"<Citty>x</Citty>")
    with pytest.raises(DecodeError, match=r"unknown member 'BillToAddress.Citty' \(did you"):
        read_item(xml, model=ProbeOrder)
    kept = read_item(xml, model=ProbeOrder, allow_unknown=True).changes
    assert city + b"<Citty>x</Citty>" in XmlCodec().encode(kept)


def test_an_xml_lines_failure_record_is_the_line_and_a_comment_and_reads_back() -> None:
    raw = xml_line(p="<Priority>12.50</Priority>")
    failure = {"line": 3, "message": "unknown member --allow-unknown-members"}
    record = failure_record(raw + b"\r\n", None, failure)
    assert record.startswith(raw + b"<!--$failure {")
    assert record.endswith(b"}-->\n")
    assert b"--allow" not in record  # a comment cannot hold "--"
    comment = record[len(raw) + len(b"<!--$failure ") : -len(b"-->\n")]
    assert orjson.loads(comment) == failure
    assert (
        read_item(record, allow_unknown=True).changes == read_item(raw, allow_unknown=True).changes
    )
    # A second failure replaces the first one's comment.
    again = failure_record(record, None, {"line": 1})
    assert again == raw + b'<!--$failure {"line":1}-->\n'


async def test_an_xml_lines_failures_file_is_the_next_runs_input(
    server: FakeShopServer, tmp_path: Path
) -> None:
    path, failed, retry = tmp_path / "in.xml", tmp_path / "failed.xml", tmp_path / "retry.xml"
    path.write_bytes(b"".join(newer_line(server, c, "xml") + b"\n" for c in (1, 2)))
    server.inject(Fault.status(503), conversation_id=2)
    argv = ["--format", "xml", "--allow-unknown-members", "--max-attempts", "1"]
    code, err = await run(server, *argv, "--failures", str(failed), str(path))
    assert code == 1, err
    assert failed.read_bytes().startswith(newer_line(server, 2, "xml") + b"<!--$failure ")
    failed.rename(retry)
    code, err = await run(server, *argv, str(retry))
    assert code == 0, err
    assert server.requests[-1].conversation_id == 2
    assert NEWER_XML in server.requests[-1].body
