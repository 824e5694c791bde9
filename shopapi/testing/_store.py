"""Storage per collection, and what the fake derives from the descriptions to keep it.

Every :attr:`Endpoint.collection` of :data:`shopapi._resources.RESOURCES` is one
collection of items. From the descriptions alone the fake derives, per collection:

* its stored type: the model with the most fields among its endpoints' bodies and
  answers (an answer type on a tie), so nothing a request sends is lost, and every
  answer is made from the stored item by field name;
* its identity field: the insert's :attr:`Endpoint.insert_id`, else ``id``, else none:
  where the pages are cut before any id shows (``GET v1/Products/{productId}`` answers a
  ``Product`` with no ``Id``; ``POST v1/Shops`` sends none), the fake invents no id
  field: it keys each item by its path values (its scope, the URL's key fields
  included) and a number of its own, so a GET finds the item stored under its URL;
* its scope: under a parent (the GET or UPDATE of another collection whose path ends in an item
  prefix of this one's), the parent's path parameters; else the path parameters other
  than the one naming the item itself (the key whose field is the identity). So
  ``(shop_id, id)`` keys a conversation and ``(shop_id, message_conversation_id, id)`` a
  message;

and per endpoint, its parents (they must be stored for it to be found), the parameter
faults and counters are keyed by (the most specific parameter naming an item), and the
fields ``Fault.other_conversation()`` shifts (the identity, and the key of the URL's most
specific parameter: one the client checks). Pure.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import attrs

from .._resources.spec import Endpoint, QueryKind, Resource, Role
from ._filters import change_field

__all__ = ["Collection", "EndpointInfo", "Store", "describe", "project"]

T = TypeVar("T")
_WORD: Final = re.compile(r"[A-Z][a-z0-9]*|[a-z0-9]+")


_PROJECTIONS: dict[tuple[type, type], tuple[tuple[str, bool, Any], ...]] = {}


def _names(source: type, target: type) -> tuple[tuple[str, bool, Any], ...]:
    """``target``'s fields: name, whether ``source`` has it, default (memoised)."""
    names = _PROJECTIONS.get((source, target))
    if names is None:
        fields = {a.name for a in attrs.fields(source)}
        names = tuple(
            (a.name, a.name in fields, None if a.default is attrs.NOTHING else a.default)
            for a in attrs.fields(target)
        )
        _PROJECTIONS[(source, target)] = names
    return names


def project(item: object, target: type[T]) -> T:
    """``target`` made from ``item``'s fields by name (a field ``item`` lacks gets its
    default, or ``None``)."""
    if type(item) is target:
        return item
    values = {
        name: getattr(item, name) if present else default
        for name, present, default in _names(type(item), target)
    }
    return target(**values)


@attrs.frozen
class Collection:
    """What the fake keeps of one collection (see the module docstring)."""

    name: str
    stored: type
    identity: str | None
    """The stored type's id field, or ``None``: keyed by scope and the store's number."""
    scope: tuple[str, ...]
    fields: Mapping[str, str]
    """Path parameter name to the stored field that equals it, from every key."""
    stamped: bool = False
    """Whether the store records each item's change time: a list of it filters by
    date, and its type shows no change-date field (:mod:`._filters`)."""

    @property
    def noun(self) -> str:
        """The item's name in messages: the stored type's, without ``Changes``."""
        name = self.stored.__name__
        return name[: -len("Changes")] if name.endswith("Changes") else name

    @property
    def words(self) -> str:
        """:attr:`noun` in lower-case words (``message conversation``)."""
        return " ".join(w.lower() for w in _WORD.findall(self.noun))


@attrs.frozen
class EndpointInfo:
    """What the fake derives of one endpoint."""

    endpoint: Endpoint
    collection: Collection
    identity_param: str | None
    """The path parameter naming the item itself (``None`` for lists and inserts)."""
    target: str | None
    """The path parameter faults and counters are keyed by, if any."""
    parents: tuple[Endpoint, ...]
    shifted: tuple[str, ...]
    """The answer's fields ``Fault.other_conversation()`` shifts."""

    def scope_of(self, values: Mapping[str, int | str]) -> tuple[int | str, ...] | None:
        """The collection's scope for these path values (``None``: not all are given)."""
        try:
            return tuple(values[name] for name in self.collection.scope)
        except KeyError:
            return None


def _stored_type(endpoints: list[Endpoint]) -> type:
    best: type | None = None
    best_count = -1
    candidates = [e.answer for e in endpoints] + [e.body for e in endpoints]
    for model in candidates:
        if model is not None and len(attrs.fields(model)) > best_count:
            best, best_count = model, len(attrs.fields(model))
    if best is None:
        raise ValueError(f"collection {endpoints[0].collection!r} names no model")
    return best


def describe(resources: Iterable[Resource]) -> dict[Endpoint, EndpointInfo]:
    """Derive every endpoint's :class:`EndpointInfo` from the descriptions.

    Raises:
        ValueError: A collection's stored type has no identity field.
    """
    endpoints = [e for r in resources for e in r.endpoints]
    by_collection: dict[str, list[Endpoint]] = {}
    for endpoint in endpoints:
        by_collection.setdefault(endpoint.collection, []).append(endpoint)
    parents: dict[Endpoint, tuple[Endpoint, ...]] = {}
    for endpoint in endpoints:
        found: dict[str, Endpoint] = {}
        for p in endpoints:
            if (
                p.role in (Role.GET, Role.UPDATE)
                # A parent names an item: a collection-wide PUT (``PUT v1/ShopGroups``,
                # the id in the body) is a prefix of paths it is no parent of.
                and p.path.endswith("}")
                and p.collection != endpoint.collection
                and endpoint.path.lower().startswith(p.path.lower() + "/")
            ):
                known = found.get(p.collection)
                if known is None or len(p.params) > len(known.params):
                    found[p.collection] = p  # the longest: it names the parent item
        parents[endpoint] = tuple(found.values())
    collections: dict[str, Collection] = {}
    for name, members in by_collection.items():
        stored = _stored_type(members)
        inserts = [e.insert_id for e in members if e.insert_id is not None]
        identity: str | None = inserts[0] if inserts else "id"
        if identity not in attrs.fields_dict(stored):
            if inserts or any(e.role is Role.UPDATE for e in members):
                # An update replaces the item its id names: without one it cannot.
                raise ValueError(
                    f"collection {name!r}: {stored.__name__} has no field {identity!r}"
                )
            identity = None
        fields = {k.param: k.field for e in members for k in e.keys}
        first = members[0]
        if parents[first]:
            # Under a parent, the parent's path names the scope (the rest names the item).
            longest = max(parents[first], key=lambda p: len(p.params))
            scope = tuple(p.name for p in longest.params)
        else:
            own = {k.param for k in first.keys if k.field == identity}
            scope = tuple(p.name for p in first.params if p.name not in own)
        dated = any(q.kind is QueryKind.DATE for e in members for q in e.query)
        stamped = dated and change_field(stored) is None
        collections[name] = Collection(name, stored, identity, scope, fields, stamped)
    item_params = {
        k.param for e in endpoints for k in e.keys if k.field == collections[e.collection].identity
    }
    infos: dict[Endpoint, EndpointInfo] = {}
    for endpoint in endpoints:
        collection = collections[endpoint.collection]
        identity_param = next(
            (k.param for k in endpoint.keys if k.field == collection.identity), None
        )
        target = next((p.name for p in reversed(endpoint.params) if p.name in item_params), None)
        shifted: list[str] = []
        if endpoint.answer is not None:
            answer_fields = attrs.fields_dict(endpoint.answer)
            if collection.identity in answer_fields:
                shifted.append(collection.identity)
            order = [p.name for p in endpoint.params]
            keys = sorted(endpoint.keys, key=lambda k: order.index(k.param))
            if keys and keys[-1].field not in shifted:
                shifted.append(keys[-1].field)
        infos[endpoint] = EndpointInfo(
            endpoint, collection, identity_param, target, parents[endpoint], tuple(shifted)
        )
    return infos


class Store:
    """The items of every collection, keyed by scope and identity, with counters."""

    def __init__(self, collections: Iterable[Collection]) -> None:
        self.collections = {c.name: c for c in collections}
        self.items: dict[str, dict[tuple[int | str, ...], Any]] = {
            name: {} for name in self.collections
        }
        self._sorted: dict[tuple[str, tuple[int | str, ...]], list[Any]] = {}
        self._next_id: Counter[str] = Counter()
        #: When each item of a stamped collection was stored (its change time).
        self.changed: dict[str, dict[tuple[int | str, ...], datetime]] = {
            name: {} for name, c in self.collections.items() if c.stamped
        }
        #: Requests routed to an endpoint that carries a body, by collection, method
        #: and target (faults included).
        self.routed: dict[tuple[str, str], Counter[int | str | None]] = {}
        #: Of those, the ones stored.
        self.stored: dict[tuple[str, str], Counter[int | str | None]] = {}

    def put(
        self,
        collection: str,
        scope: tuple[int | str, ...],
        item: Any,
        ident: int | None = None,
        changed: datetime | None = None,
    ) -> None:
        """Store ``item`` under ``scope`` (replacing the one with its identity); in a
        collection without an identity field, under ``ident`` or the next number. A
        stamped collection records ``changed`` (by default now) as its change time."""
        info = self.collections[collection]
        if info.identity is not None:
            ident = getattr(item, info.identity)
        elif ident is None:
            ident = self.take_id(collection)
        items = self.items[collection]
        key = (*scope, ident)
        if key not in items:
            self._sorted.pop((collection, scope), None)
        items[key] = item
        stamps = self.changed.get(collection)
        if stamps is not None:
            stamps[key] = datetime.now(UTC) if changed is None else changed
        if isinstance(ident, int) and ident >= self._next_id[collection]:
            self._next_id[collection] = ident + 1

    def get(self, collection: str, scope: tuple[int | str, ...], ident: int | str) -> Any:
        """The stored item, or ``None``."""
        return self.items[collection].get((*scope, ident))

    def page(
        self,
        collection: str,
        scope: tuple[int | str, ...],
        start: int,
        size: int,
        keep: Callable[[Any, datetime | None], bool] | None = None,
    ) -> list[Any]:
        """Items ``start..start+size`` of ``scope``, by identity; with ``keep`` (given
        the item and its recorded change time), of those it keeps."""
        items = self.items[collection]
        ids = self._sorted.get((collection, scope))
        if ids is None:
            n = len(scope)
            ids = sorted(k[n] for k in items if k[:n] == scope and len(k) == n + 1)
            self._sorted[(collection, scope)] = ids
        if keep is None:
            return [items[(*scope, i)] for i in ids[start : start + size]]
        stamps = self.changed.get(collection, {})
        kept = [
            items[(*scope, i)] for i in ids if keep(items[(*scope, i)], stamps.get((*scope, i)))
        ]
        return kept[start : start + size]

    def take_id(self, collection: str) -> int:
        """The next identity for an insert (1, then one past the largest stored)."""
        ident = max(self._next_id[collection], 1)
        self._next_id[collection] = ident + 1
        return ident

    def peek_id(self, collection: str) -> int:
        """The identity the next insert would get."""
        return max(self._next_id[collection], 1)

    def count(
        self,
        counters: dict[tuple[str, str], Counter[int | str | None]],
        collection: str,
        method: str,
        target: int | str | None,
    ) -> int:
        """One of the counters' values (0 for anything never counted)."""
        counter = counters.get((collection, method))
        return 0 if counter is None else counter[target]

    def bump(
        self,
        counters: dict[tuple[str, str], Counter[int | str | None]],
        collection: str,
        method: str,
        target: int | str | None,
    ) -> None:
        """Add one to a counter."""
        key = (collection, method)
        counter = counters.get(key)
        if counter is None:
            counter = counters[key] = Counter()
        counter[target] += 1
