"""The conformance suite's comparisons, held without .NET: finding 3 (.NET moves a local
time in the hour its clocks skip) is excused wherever the date sits, a nested model's or
a list member's included, and nothing else is.

The two texts are what Json.NET and XmlSerializer wrote on Mono for the same instant
(``tests/conformance/test_findings.py`` checks them against the live serializers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from shopapi import File, JsonCodec, Parcel, ProductResource, ShippingLabel, Timestamp, XmlCodec
from shopapi._wire.fields import json_order
from tests.conformance.neutral import assert_converted_alike, dst_gap_wires, ticks_of

GAP_TEXT = "2005-03-27T02:48:13.0442+01:00"  # 02:48 local does not exist that night
AFTER_GAP = "2005-03-27T03:48:13.0442+02:00"  # the same instant, as .NET says it
GAP = {"ticks": ticks_of(datetime(2005, 3, 27, 2, 48, 13, 44200)), "kind": "Local"}
CODECS = [JsonCodec(), XmlCodec(newline="\n")]


def neutral(cls: type, **values: Any) -> dict[str, Any]:
    """A neutral value of ``cls``: every field null but those given (by wire name)."""
    out: dict[str, Any] = {f.wire: None for f in json_order(cls)}
    out.update(values)
    return out


def label(text: str | None) -> ShippingLabel:
    date = None if text is None else Timestamp.parse(text)
    return ShippingLabel(weight=1, length=2, width=3, height=4, last_carrier_update=date)


def parcel(*labels: ShippingLabel, urls: tuple[str, ...] | None = None) -> Parcel:
    return Parcel(
        id=1,
        shop_id=2,
        carrier_account_id=3,
        is_return=False,
        shipping_labels=labels,
        shipper_tracking_url=urls,
    )


def dotnet_parcel(codec: JsonCodec | XmlCodec, *labels: ShippingLabel) -> Parcel:
    """As .NET's conversion has it: read from XML, a null list is an empty one."""
    return parcel(*labels, urls=() if isinstance(codec, JsonCodec) else None)


def resource(text: str) -> ProductResource:
    date = Timestamp.parse(text)
    file = File(id=5, filename="a.png", file_length=9, created_timestamp=date)
    return ProductResource(id=1, sequence=0, file=file)


def label_neutral(date: Any) -> dict[str, Any]:
    return neutral(ShippingLabel, Weight=1, Length=2, Width=3, Height=4, LastCarrierUpdate=date)


def test_a_skipped_local_time_is_found_at_any_depth() -> None:
    """A list member's date (``Parcel.ShippingLabels[1]``) and a nested model's
    (``ProductResource.File``) are found, as a top-level one is."""
    labels = [label_neutral(None), label_neutral(GAP)]
    assert dst_gap_wires(neutral(Parcel, ShippingLabels=labels), Parcel) == {"ShippingLabels"}
    file = neutral(File, Id=5, CreatedTimestamp=GAP)
    assert dst_gap_wires(neutral(ProductResource, File=file), ProductResource) == {"File"}
    assert dst_gap_wires(neutral(Parcel, ChangedTimestamp=GAP), Parcel) == {"ChangedTimestamp"}
    assert dst_gap_wires(neutral(Parcel, ShippingLabels=[label_neutral(None)]), Parcel) == set()


@pytest.mark.parametrize("codec", CODECS, ids=["json", "xml"])
def test_dotnets_move_of_a_nested_skipped_time_is_excused(codec: JsonCodec | XmlCodec) -> None:
    """.NET's conversion moves the nested date to the same instant after the skip; the
    bytes differ in one digit of the hour and the offset, and that is all it may differ in."""
    value = neutral(Parcel, ShippingLabels=[label_neutral(None), label_neutral(GAP)])
    ours = codec.encode(parcel(label(None), label(GAP_TEXT)))
    dotnet = codec.encode(dotnet_parcel(codec, label(None), label(AFTER_GAP)))
    assert ours != dotnet
    assert_converted_alike(ours, dotnet, codec, value, Parcel)
    file = neutral(File, Id=5, CreatedTimestamp=GAP)
    ours, dotnet = codec.encode(resource(GAP_TEXT)), codec.encode(resource(AFTER_GAP))
    assert_converted_alike(
        ours, dotnet, codec, neutral(ProductResource, File=file), ProductResource
    )


@pytest.mark.parametrize("codec", CODECS, ids=["json", "xml"])
def test_any_other_difference_beside_a_skipped_time_still_fails(
    codec: JsonCodec | XmlCodec,
) -> None:
    """Excusing a moved date excuses nothing else: another member's other date, or the
    gap date's text left unmoved where .NET must move it, fails the comparison."""
    value = neutral(Parcel, ShippingLabels=[label_neutral(None), label_neutral(GAP)])
    ours = codec.encode(parcel(label("2005-03-27T01:00:00+01:00"), label(GAP_TEXT)))
    dotnet = codec.encode(
        dotnet_parcel(codec, label("2005-03-27T01:00:01+01:00"), label(AFTER_GAP))
    )
    with pytest.raises(AssertionError, match=r"ShippingLabels\[0\]\.LastCarrierUpdate"):
        assert_converted_alike(ours, dotnet, codec, value, Parcel)
    ours = codec.encode(parcel(label(None), label(GAP_TEXT)))
    unmoved = codec.encode(dotnet_parcel(codec, label(None), label(GAP_TEXT)))
    with pytest.raises(AssertionError, match=r"ShippingLabels\[1\]\.LastCarrierUpdate"):
        assert_converted_alike(ours, unmoved, codec, value, Parcel)
