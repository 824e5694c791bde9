"""The list filters, as the fake applies them to its stored items. Pure.

Each :class:`~shopapi._resources.spec.QueryParam` of a list is bound as ASP.NET Web API
binds a query value (names ignoring case; ``QueryStringValueProviderFactory`` converts
with the invariant culture, so a ``DateTime`` is ``DateTime.Parse`` of the text: ISO 8601
with its offset is one instant, whatever the server's zone) and applied to the field of
the stored item that the descriptions give it:

* a date (``fromDateChanged``, ``untilDateChanged``, ``changedAfter``) to the item's
  change time: its change-date field (a timestamp named ``Change…``, ``ChangedTimestamp``)
  where its type shows one, else the time the fake recorded when it stored the item (the
  server keeps one: the orders page is cut inside ``ChangeTime…``). ``from`` and
  ``until`` include the bound, ``after`` does not;
* an id (``shipmentStatusId``, ``carrierAccountId``) to the field of the same name;
  comma-separated ids (``parcelStatusId``) by membership;
* a boolean (``published``) to the field of the same name;
* a text search (``search``) as a case-insensitive substring of any of the fields its
  description names (:attr:`QueryParam.fields`) that the type shows; other text
  (``emailAddress``) to the field of the same name, ignoring case.

A filter given that has no field to apply it to is refused (:class:`Unapplied`), never
ignored: an ignored filter would answer items the real server would not. Today that is
``mainStatusId``, ``mainStatusBaseStatusId`` and ``emailAddress`` of the order list (the
page is cut before any status or e-mail field) and ``parcelStatusId`` of the parcel list
(``ParcelStatus`` is of a type no page shows).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from .._resources.spec import Endpoint, QueryKind, QueryParam
from .._wire.fields import Kind, wire_fields
from ._routes import int32

__all__ = ["Applied", "Unapplied", "bind", "change_field", "keep", "plan"]

_BOOLEANS: Final = {"true": True, "false": False}
_DATE_BOUNDS: Final[tuple[tuple[str, Callable[[Any, Any], bool]], ...]] = (
    ("from", operator.ge),
    ("until", operator.le),
    ("after", operator.gt),
    ("before", operator.lt),
)


@attrs.frozen
class Applied:
    """How one filter applies: to ``field`` (``None`` for a date: the change time)."""

    param: QueryParam
    field: str | None
    fields: tuple[str, ...] = ()
    """A search's fields."""
    compare: Callable[[Any, Any], bool] = operator.eq


@attrs.frozen
class Unapplied:
    """A filter the fake cannot apply, and why (what its answer says)."""

    param: QueryParam
    why: str


def change_field(stored: type) -> str | None:
    """The stored type's change-date field (``ChangedTimestamp``), if it shows one."""
    for f in wire_fields(stored):
        if f.kind is Kind.TIMESTAMP and f.wire.lower().startswith("change"):
            return f.name
    return None


def plan(endpoint: Endpoint, stored: type) -> dict[str, Applied | Unapplied]:
    """Every filter of ``endpoint`` by lower-case wire name, applied to ``stored``."""
    fields = {f.wire.lower(): f for f in wire_fields(stored)}
    noun = stored.__name__
    out: dict[str, Applied | Unapplied] = {}
    for param in endpoint.query:
        wire = param.wire.lower()
        made: Applied | Unapplied
        if param.kind is QueryKind.DATE:
            bound = next((c for word, c in _DATE_BOUNDS if word in wire), None)
            if bound is None:
                made = Unapplied(param, f"{param.wire} is no from/until/after bound")
            else:
                made = Applied(param, change_field(stored), compare=bound)
        elif param.fields:
            shown = tuple(fields[n.lower()].name for n in param.fields if n.lower() in fields)
            if shown:
                made = Applied(param, None, shown)
            else:
                made = Unapplied(param, f"{noun} shows none of {', '.join(param.fields)}")
        elif wire in fields:
            made = Applied(param, fields[wire].name)
        else:
            made = Unapplied(
                param,
                f"{noun} shows no {param.wire} field to filter on (the help page is cut "
                "off before one, or shows it of an unknown type)",
            )
        out[wire] = made
    return out


def _bind(param: QueryParam, text: str) -> Any:
    """The value as Web API binds it, or raises ``ValueError``."""
    kind = param.kind
    if kind is QueryKind.INT:
        number = int32(text.strip())
        if number is None:
            raise ValueError(text)
        return number
    if kind is QueryKind.IDS:
        ids = [int32(part.strip()) for part in text.split(",")]
        if not ids or any(i is None for i in ids):
            raise ValueError(text)
        return frozenset(ids)
    if kind is QueryKind.BOOL:
        return _BOOLEANS[text.strip().lower()]  # KeyError is a ValueError's cousin
    if kind is QueryKind.DATE:
        value = datetime.fromisoformat(text.strip())
        # DateTime.Parse keeps an offset's instant; without one it is the server's local
        # time, which for the fake is UTC.
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return text


def bind(
    filters: Mapping[str, Applied | Unapplied], query: Mapping[str, str]
) -> tuple[list[tuple[Applied, Any]], dict[str, list[str]], list[Unapplied]]:
    """The filters ``query`` gives, bound: (applied with value, ``ModelState`` errors,
    the given filters that cannot be applied). Unknown names are ignored, as Web API
    ignores what no parameter binds; an empty value is not given."""
    given: list[tuple[Applied, Any]] = []
    state: dict[str, list[str]] = {}
    refused: list[Unapplied] = []
    seen: set[str] = set()
    for name, text in query.items():
        key = name.lower()
        found = filters.get(key)
        if found is None or key in seen or not text.strip():
            continue
        seen.add(key)
        if isinstance(found, Unapplied):
            refused.append(found)
            continue
        try:
            given.append((found, _bind(found.param, text)))
        except (ValueError, KeyError):
            state[found.param.wire] = [f"The value '{text}' is not valid for {found.param.wire}."]
    return given, state, refused


def keep(given: Sequence[tuple[Applied, Any]], item: Any, changed: datetime | None) -> bool:
    """Whether ``item`` (stored with change time ``changed``) passes every filter."""
    for applied, value in given:
        kind = applied.param.kind
        if kind is QueryKind.DATE:
            when = changed if applied.field is None else getattr(item, applied.field)
            if when is None or not applied.compare(when, value):
                return False
        elif applied.fields:
            needle = str(value).casefold()
            texts = (getattr(item, f) for f in applied.fields)
            if not any(t is not None and needle in str(t).casefold() for t in texts):
                return False
        else:
            have = getattr(item, applied.field) if applied.field else None
            if kind is QueryKind.IDS:
                if have not in value:
                    return False
            elif kind is QueryKind.STR:
                if have is None or str(have).casefold() != str(value).casefold():
                    return False
            elif have != value:
                return False
    return True
