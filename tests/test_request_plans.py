"""What ``_protocol.requests`` derives from each endpoint once (its plan) stays what the
description says, for every endpoint of ``RESOURCES`` and for made-up shapes.

The plan holds precomputed things: a compiled path renderer per all-ids template, and
the answer check built from the key fields. Each test here states the rule from the
description alone (the template, the keys), so a plan that drifts from it turns red.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from shopapi import (
    ConfigurationError,
    JsonCodec,
    MessageConversation,
    ResponseMismatchError,
    ValidationError,
)
from shopapi._protocol.requests import (
    answer_type,
    build_call,
    build_request,
    check_answer,
    render_path,
)
from shopapi._resources import RESOURCES
from shopapi._resources.spec import Endpoint, Key, PathParam, Role
from shopapi._wire.validation import INT32_MAX

ENDPOINTS = [endpoint for resource in RESOURCES for endpoint in resource.endpoints]
IDS_ONLY = [e for e in ENDPOINTS if all(p.type is int for p in e.params)]
KEYED = [e for e in ENDPOINTS if e.keys and e.answer is not None]
BASE = "http://127.0.0.1:9/"

#: Made-up shapes the real endpoints lack: three ids, braces in the literal text, keys
#: out of template order (the getters of both sides must pair them up).
THREE = Endpoint(
    name="three",
    role=Role.GET,
    method="GET",
    path="v1/A/{aId}/B/{bId}/C/{cId}",
    params=(
        PathParam(wire="aId", name="a_id"),
        PathParam(wire="bId", name="b_id"),
        PathParam(wire="cId", name="c_id"),
    ),
    answer=MessageConversation,
    keys=(Key("id", "c_id"), Key("shop_id", "a_id")),
    collection="c",
    summary="s",
)
BRACES = Endpoint(
    name="braces",
    role=Role.GET,
    method="GET",
    path="v1/{-}/'q'/\"{shopId}\"/}",
    params=(PathParam(wire="shopId", name="shop_id"),),
    collection="c",
    summary="s",
)


def reference_path(endpoint: Endpoint, values: tuple[int, ...]) -> str:
    """The template with each placeholder replaced by its value, in order."""
    given = iter(values)
    return re.sub(r"\{\*?[A-Za-z][A-Za-z0-9]*\}", lambda _: str(next(given)), endpoint.path)


class Id(int):
    """An int that is not exactly ``int``: it takes the careful path, not the compiled
    one, and must render the same."""


def values_for(endpoint: Endpoint, base: int) -> tuple[int, ...]:
    return tuple(base + 11 * i for i in range(len(endpoint.params)))


@pytest.mark.parametrize("endpoint", [*IDS_ONLY, THREE], ids=lambda e: e.path)
@pytest.mark.parametrize("base", [0, 7, INT32_MAX - 22])
def test_the_compiled_path_is_the_template_filled_in(endpoint: Endpoint, base: int) -> None:
    values = values_for(endpoint, base)
    expected = reference_path(endpoint, values)
    assert render_path(endpoint, values) == expected
    assert render_path(endpoint, tuple(Id(v) for v in values)) == expected
    assert render_path(endpoint, list(values)) == expected


def test_braces_and_quotes_in_the_template_are_literal_text() -> None:
    assert render_path(BRACES, (5,)) == "v1/{-}/'q'/\"5\"/}"
    assert render_path(BRACES, (Id(5),)) == "v1/{-}/'q'/\"5\"/}"


@pytest.mark.parametrize("endpoint", [e for e in IDS_ONLY if e.params], ids=lambda e: e.path)
@pytest.mark.parametrize("bad", [True, -1, INT32_MAX + 1, 1.0, "1", None])
def test_a_value_the_compiled_path_refuses_names_its_wire_name(
    endpoint: Endpoint, bad: object
) -> None:
    for at, param in enumerate(endpoint.params):
        values: list[object] = list(values_for(endpoint, 1))
        values[at] = bad
        with pytest.raises(ValidationError) as info:
            render_path(endpoint, values)
        assert info.value.fields == (param.wire,)


@pytest.mark.parametrize("endpoint", [*IDS_ONLY, THREE], ids=lambda e: e.path)
def test_the_compiled_path_needs_one_value_per_parameter(endpoint: Endpoint) -> None:
    n = len(endpoint.params)
    for count in {0, n - 1, n + 1} - {n, -1}:
        with pytest.raises(ConfigurationError, match=f"takes {n} path parameters, got {count}"):
            render_path(endpoint, tuple(range(1, count + 1)))


def answer_with(endpoint: Endpoint, path: tuple[int, ...], shift: str | None = None) -> object:
    """A stand-in answer whose key fields equal the path values they name (``shift``:
    that one field is one more)."""
    at = {p.name: i for i, p in enumerate(endpoint.params)}
    return SimpleNamespace(
        **{k.field: path[at[k.param]] + (k.field == shift) for k in endpoint.keys}
    )


@pytest.mark.parametrize("endpoint", [*KEYED, THREE], ids=lambda e: f"{e.method} {e.path}")
def test_the_answer_check_holds_every_key_field_to_its_path_value(endpoint: Endpoint) -> None:
    path = values_for(endpoint, 3)
    check = check_answer(endpoint, path)
    assert check is not None
    wrap = (lambda x: [answer_with(endpoint, path), x]) if endpoint.many else (lambda x: x)
    check(wrap(answer_with(endpoint, path)))
    for key in endpoint.keys:
        with pytest.raises(ResponseMismatchError):
            check(wrap(answer_with(endpoint, path, shift=key.field)))


def test_a_mismatch_names_each_key_of_the_answer_against_the_url() -> None:
    check = check_answer(THREE, (1, 2, 3))
    assert check is not None
    check(SimpleNamespace(id=3, shop_id=1))
    with pytest.raises(ResponseMismatchError) as info:
        check(SimpleNamespace(id=3, shop_id=9))
    assert str(info.value) == "asked for a 1 in c 3, the answer names a 9 in c 3"


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e.body is None], ids=lambda e: f"{e.method} {e.path}"
)
def test_build_call_is_build_request_answer_type_and_check_answer(endpoint: Endpoint) -> None:
    """(Bodies, and an insert's idempotency, are built in test_requests.py.)"""
    path = tuple(
        value if param.type is int else f"code-{value}"
        for param, value in zip(endpoint.params, values_for(endpoint, 4), strict=True)
    )
    request, expect, check = build_call(endpoint, BASE, JsonCodec(), path)
    assert request == build_request(endpoint, BASE, JsonCodec(), path=path)
    assert request.idempotent is endpoint.idempotent
    assert expect == answer_type(endpoint)
    assert (check is None) is (check_answer(endpoint, path) is None)
