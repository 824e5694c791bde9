"""Probe models: one field of every kind, for the codec tests and the conformance suite.

The API's documented resources with nested models, lists and decimals (``Order``,
``Customer``) come with their own issue; these stand in for them meanwhile, shaped like
them (a ``ContactInfo``-like address inside an order, ``OrderRows``, ``Children``,
``ShipperTrackingUrl``, ``ExchangeRate``), so that every kind is checked against the real
Json.NET and XmlSerializer before a resource relies on it. Named ``Probe...`` so that
they can never clash with the real classes in the generated C#.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Final

import attrs

from shopapi._wire.fields import (
    boolean,
    coded_field,
    decimal_field,
    enum_field,
    integer,
    keep_unknown,
    list_field,
    model_field,
    string,
    timestamp,
)
from shopapi._wire.unknown import Unknown

__all__ = [
    "PROBE_TYPES",
    "ProbeAddress",
    "ProbeColor",
    "ProbeOrder",
    "ProbeOrderChanges",
    "ProbeOrderRow",
    "ProbeStatus",
]


class ProbeColor(enum.IntEnum):
    """An enum of the probes (the server knows more members: ``codegen``'s table)."""

    Red = 0
    Green = 1


class ProbeStatus(enum.IntEnum):
    """A coded integer of the probes (an ``int`` property, as ``ShipmentStatusId`` is):
    the server sends values beyond these too, as any int32."""

    Open = 1
    Shipped = 2


@attrs.frozen(kw_only=True)
class ProbeAddress:
    """A nested model, as ``ContactInfo`` is inside ``Customer``."""

    city: str | None = string("City", 10)
    zip_code: int | None = integer("ZipCode")
    credit_limit: Decimal | None = decimal_field("CreditLimit")
    unknown: Unknown = keep_unknown()


@attrs.frozen(kw_only=True)
class ProbeOrderRow:
    """A member of a list of models, as an ``OrderRow`` is of ``OrderRows``."""

    id: int = integer("Id", nullable=False, required=True)
    quantity: Decimal | None = decimal_field("Quantity", nullable=False)
    text: str | None = string("Text", 20)
    delivery_address: ProbeAddress | None = model_field("DeliveryAddress", ProbeAddress)
    kind: ProbeStatus | int | None = coded_field("Kind", ProbeStatus, nullable=False)
    unknown: Unknown = keep_unknown()


@attrs.frozen(kw_only=True)
class ProbeOrder:
    """Every kind once: the scalars, a decimal, a coded integer, a nested model, and
    lists of each."""

    id: int = integer("Id", nullable=False, required=True)
    exchange_rate: Decimal | None = decimal_field("ExchangeRate", nullable=False)
    discount: Decimal | None = decimal_field("Discount")
    is_paid: bool | None = boolean("IsPaid")
    is_gift: bool | None = boolean("IsGift", nullable=True)
    order_date: datetime | None = timestamp("OrderDate", nullable=False)
    color: ProbeColor | int | str = enum_field("Color", ProbeColor, required=True)
    reference: str | None = string("Reference", 30)
    bill_to_address: ProbeAddress | None = model_field("BillToAddress", ProbeAddress)
    order_rows: tuple[ProbeOrderRow, ...] | None = list_field("OrderRows", ProbeOrderRow)
    children: tuple[int, ...] | None = list_field("Children", "integer")
    shipper_tracking_url: tuple[str | None, ...] | None = list_field("ShipperTrackingUrl", "string")
    prices: tuple[Decimal, ...] | None = list_field("Prices", "decimal")
    flags: tuple[bool, ...] | None = list_field("Flags", "boolean")
    dates: tuple[datetime, ...] | None = list_field("Dates", "date")
    status: ProbeStatus | int | None = coded_field("Status", ProbeStatus)
    unknown: Unknown = keep_unknown()


@attrs.frozen(kw_only=True)
class ProbeOrderChanges(ProbeOrder):
    """A derived model with a nested one of its own: the two orders of the formats
    (derived first in JSON, base first in XML) hold inside nested models too."""

    note: str | None = string("Note")
    ship_to_address: ProbeAddress | None = model_field("ShipToAddress", ProbeAddress)


#: The probes the conformance suite checks (nested types come with them).
PROBE_TYPES: Final[tuple[type, ...]] = (ProbeAddress, ProbeOrderRow, ProbeOrder, ProbeOrderChanges)
