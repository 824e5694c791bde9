"""Long fuzz campaigns for every decoder of untrusted bytes (``nox -s fuzz``).

Deselected from the default run by ``tests/conftest.py``; run with ``pytest -m fuzz``.
``SHOPAPI_FUZZ_EXAMPLES`` sets the number of examples per campaign (default 100 000),
for a quick check of the campaigns themselves.

Three kinds of input reach each decoder: arbitrary bytes; byte-level mutations of the
help page's samples; and *structured* mutations of those samples (a field's type
swapped, a field duplicated, a value nested thousands deep, huge or non-finite
numbers), then written in an odd encoding (UTF-16/32 with and without a BOM, a UTF-8
BOM, Latin-1) or with invalid UTF-8 spliced in. Only a value or a ``DecodeError`` may
come out (``parse_error_body``: a value or ``None``), and every example must end within
the per-example ``deadline``, so a hang or a super-linear blow-up fails the campaign.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopapi import (
    DecodeError,
    JsonCodec,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
    ValidationError,
    XmlCodec,
)
from shopapi._protocol.errorbody import ErrorBody, parse_error_body
from shopapi.codecs.json import make_converter
from tests.conftest import load_seed_samples
from tests.strategies import decode_outcome, mutated, same_outcome

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("SHOPAPI_FUZZ_EXAMPLES", "100000"))
CAMPAIGN = settings(
    max_examples=EXAMPLES,
    # A per-example time bound: one slow input (a hang, a quadratic path) fails the run.
    deadline=timedelta(seconds=1),
    suppress_health_check=list(HealthCheck),
    database=None,
)
SAMPLES = load_seed_samples()
TARGETS: list[Any] = [
    MessageConversation,
    MessageConversationChanges,
    list[MessageConversationBasicInfo],
]

# -- structured mutations -----------------------------------------------------------------

_JSON_FIELD = re.compile(rb'"(\w+)":\s*("(?:[^"\\]|\\.)*"|[^,}\]\s]+)')
_XML_FIELD = re.compile(rb"<(\w+)(?: [^>]*)?(?:/>|>([^<]*)</\1>)")

#: Values that are the wrong type, out of range or odd for every field.
_JSON_VALUES = (
    b"null", b"true", b"false", b"0", b"-0", b"1.5", b"-1", b"[]", b"{}", b'""', b'"x"',
    b"[1,2]", b'{"a":1}', b"2147483648", b"-2147483649", b"9" * 400, b"1e400", b"-1e400",
    b"1e-400", b"NaN", b"Infinity", b'"\\u0000"', b'"\\ud800"', b'"\\udfff\\ud800"',
    b'"2026-13-45T99:99:99"', b'"2026-01-11T16:13:16.73866449999+01:00"',
)  # fmt: skip
_XML_VALUES = (
    b"", b" ", b"x", b"1.5", b"-0", b"2147483648", b"-2147483649", b"9" * 400, b"1e400",
    b"NaN", b"INF", b"true", b"&#0;", b"&#xD800;", b"&#x10FFFF;", b"&lt;&gt;&amp;",
    b"<![CDATA[<x>]]>", b"<A>1</A>", b"2026-13-45T99:99:99", b"FlowAi", b"flowai",
)  # fmt: skip
_INVALID_UTF8 = (
    b"\xff", b"\xfe", b"\xc0\x80", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\x80\x80", b"\xf8\x88\x80\x80\x80",
)  # fmt: skip
_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1")


def _nest_json(value: bytes, depth: int, kind: int) -> bytes:
    if kind == 0:
        return b"[" * depth + value + b"]" * depth
    return b'{"a":' * depth + value + b"}" * depth


@st.composite
def _unknown_json_members(draw: st.DrawFn) -> bytes:
    """Unknown members: nested up to past every parser's limit, huge, or thousands."""
    shape = draw(st.sampled_from(["deep", "huge", "many", "odd"]))
    if shape == "deep":
        depth = draw(st.sampled_from([2, 64, 500, 1000, 1025, 5000, 100_000]))
        return b'"Deep":' + _nest_json(b"1", depth, draw(st.integers(0, 1)))
    if shape == "huge":
        return b'"Huge":"' + b"x" * draw(st.integers(1000, 500_000)) + b'"'
    if shape == "many":
        count = draw(st.integers(100, 5_000))
        return b",".join(b'"M%d":[1,{"a":null}]' % i for i in range(count))
    return b'"Odd":' + draw(st.sampled_from(_JSON_VALUES))


@st.composite
def _unknown_xml_elements(draw: st.DrawFn) -> bytes:
    """Unknown elements: nested up to past libxml2's limit, huge, namespaced, or thousands."""
    shape = draw(st.sampled_from(["deep", "huge", "many", "odd"]))
    if shape == "deep":
        depth = draw(st.sampled_from([2, 64, 255, 257, 5000]))
        return b"<Deep>" + b"<A>" * depth + b"1" + b"</A>" * depth + b"</Deep>"
    if shape == "huge":
        return b"<Huge>" + b"x" * draw(st.integers(1000, 500_000)) + b"</Huge>"
    if shape == "many":
        return b"".join(
            b"<M%d a='1'><B/></M%d>" % (i, i) for i in range(draw(st.integers(100, 2000)))
        )
    value = draw(st.sampled_from(_XML_VALUES))
    return b'<Odd xmlns="urn:x" xsi:nil="true">' + value + b"</Odd>"


@st.composite
def structured_json(draw: st.DrawFn, sample: bytes) -> bytes:
    """``sample`` with fields retyped, duplicated, deleted, deeply nested or made huge."""
    data = sample
    for _ in range(draw(st.integers(1, 4))):
        fields = list(_JSON_FIELD.finditer(data))
        if not fields:
            break
        m = draw(st.sampled_from(fields))
        op = draw(st.sampled_from(["retype", "duplicate", "delete", "nest", "huge", "unknown"]))
        start, end = m.span(2)
        if op == "unknown":
            # A member the models do not know, kept as raw text: deep, huge or many.
            data = data[: m.start()] + draw(_unknown_json_members()) + b"," + data[m.start() :]
        elif op == "retype":
            data = data[:start] + draw(st.sampled_from(_JSON_VALUES)) + data[end:]
        elif op == "duplicate":
            copy = (
                m.group(0)
                + b","
                + m.group(1).join([b'"', b'":'])
                + draw(st.sampled_from((m.group(2), *_JSON_VALUES)))
            )
            data = data[: m.start()] + copy + data[m.end() :]
        elif op == "delete":
            data = data[: m.start()] + data[m.end() :]
        elif op == "nest":
            depth = draw(st.sampled_from([2, 64, 1000, 1025, 5000, 100_000]))
            nested = _nest_json(m.group(2), depth, draw(st.integers(0, 1)))
            data = data[:start] + nested + data[end:]
        else:
            digits = draw(st.integers(10, 5000))
            sign = draw(st.sampled_from([b"", b"-"]))
            tail = draw(st.sampled_from([b"", b".5", b"e308", b"e-400", b"e99999"]))
            data = data[:start] + sign + b"9" * digits + tail + data[end:]
    return draw(_reencoded(data))


@st.composite
def structured_xml(draw: st.DrawFn, sample: bytes) -> bytes:
    """``sample`` with elements retyped, duplicated, deleted, deeply nested or made huge."""
    data = sample
    for _ in range(draw(st.integers(1, 4))):
        fields = [m for m in _XML_FIELD.finditer(data) if m.group(2) is not None]
        if not fields:
            break
        m = draw(st.sampled_from(fields))
        op = draw(
            st.sampled_from(["retype", "duplicate", "delete", "nest", "huge", "nil", "unknown"])
        )
        name = m.group(1)
        if op == "unknown":
            # An element the models do not know, kept as it came: deep, huge or many.
            data = data[: m.end()] + draw(_unknown_xml_elements()) + data[m.end() :]
        elif op == "retype":
            start, end = m.span(2)
            data = data[:start] + draw(st.sampled_from(_XML_VALUES)) + data[end:]
        elif op == "duplicate":
            extra = b"<%s>%s</%s>" % (name, draw(st.sampled_from(_XML_VALUES)), name)
            data = data[: m.end()] + extra + data[m.end() :]
        elif op == "delete":
            data = data[: m.start()] + data[m.end() :]
        elif op == "nest":
            depth = draw(st.sampled_from([2, 64, 255, 257, 5000, 100_000]))
            start, end = m.span(2)
            nested = b"<A>" * depth + m.group(2) + b"</A>" * depth
            data = data[:start] + nested + data[end:]
        elif op == "huge":
            start, end = m.span(2)
            data = data[:start] + b"9" * draw(st.integers(10, 5000)) + data[end:]
        else:
            data = data[: m.start()] + b'<%s xsi:nil="true" />' % name + data[m.end() :]
    return draw(_reencoded(data))


@st.composite
def _reencoded(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` as is, in another encoding (with or without a BOM), or with bad UTF-8."""
    how = draw(st.sampled_from(["as is", "encoding", "invalid utf-8"]))
    if how == "encoding":
        text = data.decode("utf-8", "replace")
        encoding = draw(st.sampled_from(_ENCODINGS))
        return text.encode(encoding, "replace")
    if how == "invalid utf-8":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from(_INVALID_UTF8)) + data[at:]
    return data


def inputs(*sample_keys: str, structured: Any) -> st.SearchStrategy[bytes]:
    """Random bytes, byte-level and structured mutations of the golden samples."""
    samples = [SAMPLES[k].encode() for k in sample_keys]
    return st.one_of(
        st.binary(max_size=2048),
        st.sampled_from(samples).flatmap(mutated),
        st.sampled_from(samples).flatmap(structured),
    )


def check(codec: Any, data: bytes, cls: Any, media_type: str) -> None:
    """Only a value of the right shape or a DecodeError for this format may come out."""
    result = decode_outcome(codec, data, cls)
    if isinstance(result, DecodeError):
        assert result.media_type == media_type
    elif isinstance(result, list):
        assert all(type(item) is MessageConversationBasicInfo for item in result)
    else:
        assert type(result) is cls
    if not isinstance(result, DecodeError):
        for item in result if isinstance(result, list) else [result]:
            _kept_again(codec, item)


def _kept_again(codec: Any, model: Any) -> None:
    """A model's unknown members are written back and read again as they were kept."""
    if not model.unknown:
        return
    try:
        again = codec.encode(model)
    except ValidationError:  # a known value the format cannot carry (a lone surrogate)
        return
    assert codec.decode(again, type(model)).unknown == model.unknown


@CAMPAIGN
@given(
    inputs("request_json", "response_json", structured=structured_json),
    st.sampled_from(TARGETS),
    st.booleans(),
)
def test_json_decoder_campaign(data: bytes, cls: Any, wrap_in_array: bool) -> None:
    """The JSON decoder yields a value or a DecodeError for any bytes, and its msgspec
    fast path gives the same value or the same error as the orjson reference path."""
    if wrap_in_array and cls is TARGETS[2]:
        data = b"[" + data + b"]"
    check(JsonCodec(), data, cls, "application/json")
    assert same_outcome(JsonCodec(), JsonCodec(converter=make_converter()), data, cls)


@CAMPAIGN
@given(
    inputs("request_xml", "response_xml", structured=structured_xml),
    st.sampled_from(TARGETS),
)
def test_xml_decoder_campaign(data: bytes, cls: Any) -> None:
    """The XML decoder yields a value or a DecodeError for any bytes."""
    check(XmlCodec(), data, cls, "application/xml")


_ERROR_BODIES = [
    b'{"Message":"m","ModelState":{"changes.Id":["required"]}}',
    b'{"Message":"m","MessageDetail":"d","ExceptionMessage":"e","ModelState":{"a":"b"}}',
    b"<Error><Message>m</Message><ModelState><a>b</a></ModelState></Error>",
    b"<Error><Message>m</Message><MessageDetail>d</MessageDetail></Error>",
]


@CAMPAIGN
@given(
    st.one_of(
        inputs("request_json", "request_xml", structured=structured_json),
        st.sampled_from(_ERROR_BODIES).flatmap(mutated),
        st.sampled_from(_ERROR_BODIES[:2]).flatmap(structured_json),
        st.sampled_from(_ERROR_BODIES[2:]).flatmap(structured_xml),
    ),
    st.sampled_from(
        [None, "application/json", "application/xml", "text/html", "text/plain", "text/xml"]
    ),
)
def test_error_body_parser_campaign(data: bytes, content_type: str | None) -> None:
    """The error-body parser never raises, whatever a failing server sends."""
    result = parse_error_body(data, content_type)
    assert result is None or isinstance(result, ErrorBody)


def test_structured_mutations_really_mutate() -> None:
    """The structured strategies produce what they claim (a guard on the fuzzer itself)."""
    seen_json: set[bytes] = set()
    seen_xml: set[bytes] = set()

    @settings(max_examples=200, database=None, deadline=None)
    @given(
        structured_json(SAMPLES["request_json"].encode()),
        structured_xml(SAMPLES["request_xml"].encode()),
    )
    def collect(js: bytes, xml: bytes) -> None:
        seen_json.add(js)
        seen_xml.add(xml)

    collect()
    seen_json.discard(SAMPLES["request_json"].encode())
    seen_xml.discard(SAMPLES["request_xml"].encode())
    assert len(seen_json) > 100
    assert len(seen_xml) > 100
    assert any(b"\x00" in s or s.startswith((b"\xff\xfe", b"\xfe\xff")) for s in seen_json)
