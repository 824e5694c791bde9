"""The new kinds against the real serializers, beyond the differential tests: indented
output (the help page's form) of nested models and lists, and the decimal facts the
codecs rely on, measured on the live Json.NET and XmlSerializer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.harness import SerializerTool
from conformance.probes import PROBE_TYPES, ProbeOrder, ProbeStatus
from shopapi import DecodeError, JsonCodec, XmlCodec
from tests.conformance.neutral import dst_gap_wires, enum_known_to_client, neutral_values

pytestmark = pytest.mark.conformance


@pytest.mark.parametrize("cls", PROBE_TYPES, ids=lambda c: c.__name__)
def test_pretty_output_is_dotnets_indented_output(tool: SerializerTool, cls: type) -> None:
    """``pretty=True`` indents nested objects, arrays, empty lists and members as
    Json.NET's ``Formatting.Indented`` and XmlWriter's ``Indent`` do."""
    pretty_json, pretty_xml = JsonCodec(pretty=True), XmlCodec(pretty=True, newline="\n")

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(neutral_values(cls), min_size=5, max_size=20))
    def check(values: list[dict[str, Any]]) -> None:
        bodies = [w["json"] for w in tool.write(cls.__name__, values, newline="\n")]
        indented = tool.convert(cls.__name__, "json", bodies, newline="\n", indent=True)
        for neutral, body, dotnet in zip(values, bodies, indented, strict=True):
            if dst_gap_wires(neutral, cls):
                continue  # .NET moves a skipped local time (finding 3)
            model: Any = JsonCodec().decode(body, cls)
            assert pretty_json.encode(model) == dotnet["json"]
            if enum_known_to_client(neutral, cls) and "xml" in dotnet:
                assert pretty_xml.encode(model) == dotnet["xml"]

    check()


@pytest.mark.parametrize(
    "text",
    [
        "12.50",
        "0",
        "100",
        "-0.00",
        "0.0000000000000000000000000001",
        "79228162514264337593543950335",
        "-7.9228162514264337593543950335",
        "1234567.0000000",
    ],
)
def test_decimals_are_written_as_dotnet_writes_them(tool: SerializerTool, text: str) -> None:
    """No exponent, no negative zero, the scale kept; Json.NET adds ``.0`` to an integral
    text. shopapi's bytes for the same Decimal are .NET's, in both formats."""
    neutral = {"Id": 1, "ExchangeRate": text, "Color": 0}
    [written] = tool.write("ProbeOrder", [neutral], newline="\n")
    model = ProbeOrder(id=1, exchange_rate=Decimal(text), color=0)
    ours_json = JsonCodec().encode(model)
    ours_xml = XmlCodec(newline="\n").encode(model)
    # .NET writes every member; shopapi's model leaves OrderDate unset (null / left out),
    # so compare the decimal's own text.
    assert _member(ours_json, b'"ExchangeRate":', b",") == _member(
        written["json"], b'"ExchangeRate":', b","
    )
    assert _member(ours_xml, b"<ExchangeRate>", b"<") == _member(
        written["xml"], b"<ExchangeRate>", b"<"
    )


def _member(body: bytes, start: bytes, end: bytes) -> bytes:
    at = body.index(start) + len(start)
    return body[at : body.index(end, at)]


@pytest.mark.parametrize("value", [1, 2, 0, 99, -(2**31), 2**31 - 1])
def test_a_coded_integer_is_written_as_dotnet_writes_an_int(
    tool: SerializerTool, value: int
) -> None:
    """An ``int`` property whose values the pages name: Json.NET and XmlSerializer both
    write its digits (an enum would be a name in XML). shopapi writes the same bytes for
    the member or the plain int, reads a named value as its member and keeps any other
    int32 as it came; .NET reads back what shopapi wrote."""
    neutral = {"Id": 1, "ExchangeRate": "1", "Color": 0, "Status": value}
    [written] = tool.write("ProbeOrder", [neutral], newline="\n")
    assert f"<Status>{value}</Status>".encode() in written["xml"]
    assert f'"Status":{value}}}'.encode() in written["json"]
    for codec, body in ((JsonCodec(), written["json"]), (XmlCodec(newline="\n"), written["xml"])):
        model: Any = codec.decode(body, ProbeOrder)
        named = value in ProbeStatus._value2member_map_
        assert type(model.status) is (ProbeStatus if named else int)
        assert codec.encode(model) == body
        fmt = "json" if isinstance(codec, JsonCodec) else "xml"
        [read] = tool.read("ProbeOrder", fmt, [codec.encode(model)])  # type: ignore[arg-type]
        assert read["value"]["Status"] == value


@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("json", b'{"Id":1,"ExchangeRate":79228162514264337593543950336,"Color":0}'),
        (
            "xml",
            b"<ProbeOrder><Id>1</Id><ExchangeRate>79228162514264337593543950336</ExchangeRate></ProbeOrder>",
        ),
        ("xml", b"<ProbeOrder><Id>1</Id><ExchangeRate>1e2</ExchangeRate></ProbeOrder>"),
    ],
)
def test_what_dotnet_refuses_to_read_shopapi_refuses_too(
    tool: SerializerTool, fmt: str, body: bytes
) -> None:
    """A coefficient past 96 bits (both formats) and an exponent in XML: .NET's readers
    fail, and so does shopapi's (a DecodeError naming the field)."""
    [read] = tool.read("ProbeOrder", fmt, [body])  # type: ignore[arg-type]
    assert "error" in read
    codec = JsonCodec() if fmt == "json" else XmlCodec()
    with pytest.raises(DecodeError) as error:
        codec.decode(body, ProbeOrder)
    assert error.value.field == "ExchangeRate"
