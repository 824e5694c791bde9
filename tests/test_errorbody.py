"""ASP.NET ``HttpError`` bodies: read what is there, never let a bad body hide the status.

An ``ApiError`` shows the server's message and ModelState when the body has them; when it
does not (an HTML page from a proxy, a truncated body), parsing must give ``None``
quietly so the caller still reports the status and keeps the raw bytes.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopapi._protocol.errorbody import ErrorBody, parse_error_body
from shopapi.testing._errors import render_error_body
from tests.strategies import xml_chars

CONTENT_TYPES = [
    None,
    "",
    "application/json",
    "application/json; charset=utf-8",
    "text/json",
    "application/problem+json",
    "application/xml",
    "text/xml; charset=utf-8",
    "application/problem+xml",
    "text/html",
    "text/plain",
]


def test_json_model_state() -> None:
    """The 400 for an invalid update: the message and each field's complaints."""
    data = (
        b'{"Message":"The request is invalid.","ModelState":{'
        b'"changes.CustomerEmail":["The field CustomerEmail must be a string with a maximum'
        b' length of 50.","second"],"changes.Id":["required"]}}'
    )
    parsed = parse_error_body(data, "application/json; charset=utf-8")
    assert parsed == ErrorBody(
        message="The request is invalid.",
        model_state={
            "changes.CustomerEmail": (
                "The field CustomerEmail must be a string with a maximum length of 50.",
                "second",
            ),
            "changes.Id": ("required",),
        },
    )


@pytest.mark.parametrize("detail_key", ["MessageDetail", "ExceptionMessage"])
def test_json_message_detail_is_appended(detail_key: str) -> None:
    """ASP.NET puts the useful half of a 404/500 in ``MessageDetail``; keep both halves."""
    data = f'{{"Message":"No HTTP resource was found.","{detail_key}":"No action."}}'.encode()
    parsed = parse_error_body(data, "application/json")
    assert parsed is not None
    assert parsed.message == "No HTTP resource was found. No action."
    assert parsed.model_state == {}


def test_json_detail_alone_is_the_message() -> None:
    """A body with only a detail still yields a message."""
    parsed = parse_error_body(b'{"MessageDetail":"only detail"}', "application/json")
    assert parsed is not None
    assert parsed.message == "only detail"


def test_json_bare_string_is_the_message() -> None:
    """``Request.CreateErrorResponse`` can produce a bare JSON string."""
    parsed = parse_error_body(b'"Authorization has been denied."', "application/json")
    assert parsed == ErrorBody(message="Authorization has been denied.")


def test_json_model_state_shapes_are_tolerated() -> None:
    """A single string, nulls and numbers in ModelState are read, not fatal."""
    data = b'{"Message":"m","ModelState":{"a":"single","b":null,"c":[null,"x",1]}}'
    parsed = parse_error_body(data, "application/json")
    assert parsed is not None
    assert parsed.model_state == {"a": ("single",), "c": ("x", "1")}


def test_xml_model_state() -> None:
    """The same 400 when the client asked for XML."""
    data = (
        b"<Error><Message>The request is invalid.</Message><ModelState>"
        b"<changes.CustomerEmail>too long</changes.CustomerEmail>"
        b"<changes.CustomerEmail>second</changes.CustomerEmail>"
        b"<changes.Id>required</changes.Id></ModelState></Error>"
    )
    parsed = parse_error_body(data, "application/xml; charset=utf-8")
    assert parsed == ErrorBody(
        message="The request is invalid.",
        model_state={
            "changes.CustomerEmail": ("too long", "second"),
            "changes.Id": ("required",),
        },
    )


def test_xml_message_detail_is_appended() -> None:
    """``MessageDetail`` in XML is appended as in JSON."""
    data = b"<Error><Message>Not found.</Message><MessageDetail>No type.</MessageDetail></Error>"
    parsed = parse_error_body(data, "text/xml")
    assert parsed is not None
    assert parsed.message == "Not found. No type."


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b'{"Message":"sniffed"}', None),
        (b'  {"Message":"sniffed"}', "text/plain"),
        (b"<Error><Message>sniffed</Message></Error>", None),
        (b"\n<Error><Message>sniffed</Message></Error>", "application/octet-stream"),
    ],
)
def test_format_is_sniffed_without_a_useful_content_type(
    data: bytes, content_type: str | None
) -> None:
    """Some proxies drop or mislabel the Content-Type; the body still speaks for itself."""
    parsed = parse_error_body(data, content_type)
    assert parsed is not None
    assert parsed.message == "sniffed"


def test_json_with_bom() -> None:
    """A UTF-8 BOM in front of the JSON is not garbage."""
    parsed = parse_error_body(b'\xef\xbb\xbf{"Message":"bom"}', "application/json")
    assert parsed is not None
    assert parsed.message == "bom"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"", "application/json"),
        (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
        (b"<html><body>502</body></html>", "application/xml"),
        (b"Service Unavailable", None),
        (b"Service Unavailable", "application/json"),
        (b'{"Message":', "application/json"),
        (b"<Error><Message>", "application/xml"),
        (b'{"unrelated":1}', "application/json"),
        (b'{"Message":5}', "application/json"),
        (b"[1,2]", "application/json"),
        (b"null", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b'{"Message":"x"}', "application/xml"),
        (b"<Error><Message>x</Message></Error>", "application/json"),
        (b'{"Message":' + b"9" * 5000 + b"}", "application/json"),
        (
            b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<Error><Message>&x;</Message></Error>",
            "application/xml",
        ),
        (b"<Error>" * 100_000, "application/xml"),
    ],
)
def test_garbage_gives_none(data: bytes, content_type: str | None) -> None:
    """Anything that is not an HttpError is ``None``: the raw body is kept elsewhere."""
    assert parse_error_body(data, content_type) is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512), st.sampled_from(CONTENT_TYPES))
def test_arbitrary_bytes_never_raise(data: bytes, content_type: str | None) -> None:
    """Whatever the body, parsing returns an ``ErrorBody`` or ``None``."""
    result = parse_error_body(data, content_type)
    assert result is None or isinstance(result, ErrorBody)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.builds(
            lambda m, tail: b'{"Message":' + m + tail,
            st.binary(max_size=32),
            st.sampled_from([b"}", b',"ModelState":{"a":[', b',"ModelState":', b""]),
        ),
        st.builds(
            lambda m: b"<Error><Message>" + m + b"</Message><ModelState><a>",
            st.binary(max_size=32),
        ),
    ),
    st.sampled_from(CONTENT_TYPES),
)
def test_near_miss_bodies_never_raise(data: bytes, content_type: str | None) -> None:
    """Bodies that start right and then go wrong reach deeper; still no exception."""
    result = parse_error_body(data, content_type)
    assert result is None or isinstance(result, ErrorBody)


model_state_keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,30}", fullmatch=True)
messages = st.text(xml_chars, min_size=1, max_size=80)


@settings(max_examples=250, deadline=None)
@given(
    st.sampled_from(["application/json", "application/xml", "text/json", "text/xml"]),
    messages,
    st.dictionaries(model_state_keys, st.lists(messages, min_size=1, max_size=3), max_size=4),
)
def test_render_then_parse_round_trips(
    media_type: str, message: str, model_state: dict[str, list[str]]
) -> None:
    """What the fake server renders, the client reads back exactly."""
    data = render_error_body(media_type, message, model_state)
    parsed = parse_error_body(data, media_type)
    assert parsed == ErrorBody(
        message=message, model_state={k: tuple(v) for k, v in model_state.items()}
    )


@pytest.mark.parametrize("media_type", ["application/json", "application/xml"])
def test_render_without_model_state(media_type: str) -> None:
    """A plain message (a 404) renders and parses without a ModelState."""
    data = render_error_body(media_type, "Not found.")
    assert b"ModelState" not in data
    assert parse_error_body(data, media_type) == ErrorBody(message="Not found.")
