"""Differential tests against the real serializers: Json.NET 6.0.8 with Web API's default
settings, and XmlSerializer with XmlMediaTypeFormatter's writer settings and reader.

For every model type, with hostile values drawn in .NET's own terms (``neutral``):

* .NET writes; shopapi decodes the same values and re-encodes the same bytes;
* shopapi writes; .NET reads back the same values;
* JSON to XML and XML to JSON give what .NET's own conversion gives.

Each Hypothesis example is a batch of values, sent to the one serializer process in one
line each way, so a few thousand values take seconds.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.codegen import CONFORMANCE_TYPES
from conformance.harness import SerializerTool
from shopapi import JsonCodec, ValidationError, XmlCodec
from tests.conformance.neutral import (
    assert_converted_alike,
    assert_decoded_matches,
    assert_read_matches,
    enum_defined_on_server,
    enum_known_to_client,
    neutral_values,
)
from tests.conformance.strategies import client_models

pytestmark = pytest.mark.conformance

JSON = JsonCodec()
#: The XML line ends of a Windows server, and of a Mono one.
NEWLINES = ("\r\n", "\n")
#: Values per batch: one call to the serializer process each way, however many.
MIN_BATCH, MAX_BATCH = 10, 60
DIFFERENTIAL = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def batches(cls: type) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A batch of neutral values of ``cls``."""
    return st.lists(neutral_values(cls), min_size=MIN_BATCH, max_size=MAX_BATCH)


@pytest.mark.parametrize("newline", NEWLINES, ids=["crlf", "lf"])
@pytest.mark.parametrize("cls", CONFORMANCE_TYPES, ids=lambda c: c.__name__)
def test_dotnet_writes_shopapi_reads_and_writes_the_same_bytes(
    tool: SerializerTool, cls: type, newline: str
) -> None:
    """Json.NET's and XmlSerializer's bytes decode to the values .NET held, and encode back
    byte for byte (XML with ``XmlCodec(newline=...)`` set to the server's), control
    characters written as references included (finding 1)."""
    xml_codec = XmlCodec(newline=newline)

    @DIFFERENTIAL
    @given(batches(cls))
    def check(values: list[dict[str, Any]]) -> None:
        for neutral, written in zip(
            values, tool.write(cls.__name__, values, newline=newline), strict=True
        ):
            json_body = written["json"]
            decoded: Any = JSON.decode(json_body, cls)
            assert_decoded_matches(decoded, neutral, xml=False)
            assert JSON.encode(decoded) == json_body
            if not enum_defined_on_server(neutral, cls):
                # XmlSerializer cannot write a value its enum does not define.
                assert "is not a valid value" in written["xml_error"]
                continue
            xml_body = written["xml"]
            decoded = xml_codec.decode(xml_body, cls)
            assert_decoded_matches(decoded, neutral, xml=True)
            assert xml_codec.encode(decoded) == xml_body

    check()


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("cls", CONFORMANCE_TYPES, ids=lambda c: c.__name__)
def test_shopapi_writes_dotnet_reads_the_same_values(
    tool: SerializerTool, cls: type, fmt: str
) -> None:
    """Json.NET and the formatter's XML reader read back every value shopapi wrote; a date
    with an offset arrives as the same instant in the server's local time."""
    codec = JSON if fmt == "json" else XmlCodec()

    @DIFFERENTIAL
    @given(
        st.lists(
            client_models(cls, "json" if fmt == "json" else "xml"),
            min_size=MIN_BATCH,
            max_size=MAX_BATCH,
        )
    )
    def check(models: list[Any]) -> None:
        bodies = [codec.encode(m) for m in models]
        for model, read in zip(models, tool.read(cls.__name__, fmt, bodies), strict=True):  # type: ignore[arg-type]
            assert "value" in read, read.get("error")
            assert_read_matches(model, read["value"], xml=fmt == "xml")

    check()


@pytest.mark.parametrize("newline", NEWLINES, ids=["crlf", "lf"])
@pytest.mark.parametrize("cls", CONFORMANCE_TYPES, ids=lambda c: c.__name__)
def test_json_to_xml_and_back_as_dotnet_converts(
    tool: SerializerTool, cls: type, newline: str
) -> None:
    """shopapi's JSON-to-XML and XML-to-JSON give .NET's bytes for the same conversion.

    Where it cannot, shopapi refuses with a ``ValidationError`` instead of guessing: an
    enum value it has no name (or integer) for. The one
    difference is finding 3: .NET moves a local time in the hour its clocks skip to the
    same instant after the skip; shopapi keeps the text it read.
    """
    xml_codec = XmlCodec(newline=newline)

    @DIFFERENTIAL
    @given(batches(cls))
    def check(values: list[dict[str, Any]]) -> None:
        written = tool.write(cls.__name__, values, newline=newline)
        json_bodies = [w["json"] for w in written]
        via_dotnet = tool.convert(cls.__name__, "json", json_bodies, newline=newline)
        for neutral, body, dotnet in zip(values, json_bodies, via_dotnet, strict=True):
            model: Any = JSON.decode(body, cls)
            if not enum_known_to_client(neutral, cls):
                with pytest.raises(ValidationError):  # an integer the client has no name for
                    xml_codec.encode(model)
                continue
            assert_converted_alike(xml_codec.encode(model), dotnet["xml"], xml_codec, neutral, cls)
        pairs = [(v, w["xml"]) for v, w in zip(values, written, strict=True) if "xml" in w]
        via_dotnet = tool.convert(cls.__name__, "xml", [b for _, b in pairs], newline=newline)
        for (neutral, body), dotnet in zip(pairs, via_dotnet, strict=True):
            model = xml_codec.decode(body, cls)
            if not enum_known_to_client(neutral, cls):
                with pytest.raises(ValidationError):  # a name the client has no integer for
                    JSON.encode(model)
                continue
            assert_converted_alike(JSON.encode(model), dotnet["json"], JSON, neutral, cls)

    check()
