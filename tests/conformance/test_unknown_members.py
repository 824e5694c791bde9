"""A newer server's type, with members the Python models lack, round-trips through them.

For every model (and probe), ``conformance/codegen.py`` also generates ``Extended.X``: the
same class with :data:`~conformance.codegen.EXTRA_MEMBERS` (a string, ints, a null
``int?``, a decimal, a nested object, lists) interleaved before, among and after its own
members, in its bases and in the classes it nests. Json.NET and XmlSerializer write it;
the Python model that lacks those members reads it, writes the same bytes, and after a
change to a known member .NET reads every extra member back unchanged.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.codegen import CONFORMANCE_TYPES, EXTRA_MEMBERS, csharp_class_name
from conformance.harness import SerializerTool
from shopapi import JsonCodec, XmlCodec
from shopapi._wire.fields import Kind, json_order
from tests.conformance.neutral import (
    assert_decoded_matches,
    enum_defined_on_server,
    neutral_values,
)

pytestmark = pytest.mark.conformance

JSON = JsonCodec()
ROUND_TRIP = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def extra_names(cls: type) -> set[str]:
    """The extra members' names in ``cls`` and its bases (not the classes it nests)."""
    return {
        f"Added{csharp_class_name(k)}{suffix}"
        for k in cls.__mro__
        if attrs.has(k)
        for _, suffix, _ in EXTRA_MEMBERS
    }


def changed(model: Any) -> tuple[Any, str]:
    """``model`` with its first integer member set to 7 (a read-modify-write), and the
    member's wire name."""
    cls: type = type(model)
    f = next(f for f in json_order(cls) if f.kind is Kind.INT)
    return attrs.evolve(model, **{f.name: 7}), f.wire


@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize("cls", CONFORMANCE_TYPES, ids=lambda c: c.__name__)
def test_a_newer_type_round_trips_through_a_model_that_lacks_its_members(
    tool: SerializerTool, cls: type, newline: str
) -> None:
    xml_codec = XmlCodec(newline=newline)
    name = "Extended." + cls.__name__
    extras = extra_names(cls)

    @ROUND_TRIP
    @given(st.lists(neutral_values(cls), min_size=5, max_size=20))
    def check(values: list[dict[str, Any]]) -> None:
        written = tool.write(name, values, newline=newline)
        for fmt in ("json", "xml"):
            codec: JsonCodec | XmlCodec = JSON if fmt == "json" else xml_codec
            pairs = [
                (v, w[fmt])
                for v, w in zip(values, written, strict=True)
                if fmt == "json" or enum_defined_on_server(v, cls)
            ]
            models: list[tuple[Any, str]] = []
            for neutral, body in pairs:
                model: Any = codec.decode(body, cls)
                # XmlSerializer leaves out a null string, object or int?: the rest is kept.
                assert set(model.unknown.names()) <= extras
                assert len(model.unknown) >= len(extras) - 2 * (len(extras) // 7)
                assert_decoded_matches(model, neutral, xml=fmt == "xml")
                assert codec.encode(model) == body, fmt
                models.append(changed(model))
            bodies = [codec.encode(m) for m, _ in models]
            ours = tool.read(name, fmt, bodies)
            theirs = tool.read(name, fmt, [b for _, b in pairs])
            for (_, wire), mine, original in zip(models, ours, theirs, strict=True):
                # .NET reads the same values from what Python wrote as from its own
                # bytes (in its own terms: a date it clamped is clamped alike), the
                # extra members included, with the one change made.
                assert "value" in mine, mine.get("error")
                assert mine["value"] == {**original["value"], wire: 7}
                lacking = extras - set(mine["value"])
                assert not lacking, f"the generated {name} does not declare {sorted(lacking)}"

    check()
