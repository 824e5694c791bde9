"""Long fuzz campaigns for every decoder of untrusted bytes (``nox -s fuzz``).

Deselected from the default run by ``tests/conftest.py``; run with ``pytest -m fuzz``.
``SHOPAPI_FUZZ_EXAMPLES`` sets the number of examples per campaign (default 100 000),
for a quick check of the campaigns themselves.
"""

from __future__ import annotations

import os
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
    XmlCodec,
)
from shopapi._errorbody import ErrorBody, parse_error_body
from tests.conftest import load_seed_samples
from tests.strategies import decode_outcome, mutated

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("SHOPAPI_FUZZ_EXAMPLES", "100000"))
CAMPAIGN = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
SAMPLES = load_seed_samples()
TARGETS: list[Any] = [
    MessageConversation,
    MessageConversationChanges,
    list[MessageConversationBasicInfo],
]


def inputs(*sample_keys: str) -> st.SearchStrategy[bytes]:
    """Random bytes, and mutations of the golden samples (which reach deeper)."""
    samples = [SAMPLES[k].encode() for k in sample_keys]
    return st.one_of(
        st.binary(max_size=2048),
        st.sampled_from(samples).flatmap(mutated),
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


@CAMPAIGN
@given(inputs("request_json", "response_json"), st.sampled_from(TARGETS), st.booleans())
def test_json_decoder_campaign(data: bytes, cls: Any, wrap_in_array: bool) -> None:
    """The JSON decoder yields a value or a DecodeError for any bytes."""
    if wrap_in_array and cls is TARGETS[2]:
        data = b"[" + data + b"]"
    check(JsonCodec(), data, cls, "application/json")


@CAMPAIGN
@given(inputs("request_xml", "response_xml"), st.sampled_from(TARGETS))
def test_xml_decoder_campaign(data: bytes, cls: Any) -> None:
    """The XML decoder yields a value or a DecodeError for any bytes."""
    check(XmlCodec(), data, cls, "application/xml")


@CAMPAIGN
@given(
    st.one_of(
        inputs("request_json", "request_xml"),
        st.sampled_from(
            [
                b'{"Message":"m","ModelState":{"changes.Id":["required"]}}',
                b"<Error><Message>m</Message><ModelState><a>b</a></ModelState></Error>",
            ]
        ).flatmap(mutated),
    ),
    st.sampled_from([None, "application/json", "application/xml", "text/html", "text/plain"]),
)
def test_error_body_parser_campaign(data: bytes, content_type: str | None) -> None:
    """The error-body parser never raises, whatever a failing server sends."""
    result = parse_error_body(data, content_type)
    assert result is None or isinstance(result, ErrorBody)
