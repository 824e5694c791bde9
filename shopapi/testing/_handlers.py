"""One handler per :class:`~shopapi._resources.spec.Role`, as the controller actions of
the real API behave: a LIST pages over the stored items of its scope, a GET finds its
item, an UPDATE binds, validates and stores the body, an INSERT stores it under the next
identity. Answers are made from the stored item by field name into
:attr:`Endpoint.answer`. Synchronous: the server has read the request by now.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs
from aiohttp import web

from .._exceptions import DecodeError, ValidationError
from .._resources.message_conversations import MessageChanges
from .._resources.spec import PAGE_NUMBER, PAGE_SIZE, Endpoint, Role
from .._wire.fields import Kind, wire_fields
from .._wire.timestamps import Timestamp
from .._wire.validation import field_errors, utf16_length
from ..codecs import normalize_media_type
from ._answers import encode, ok
from ._enum_names import from_wire_names
from ._errors import error, invalid, not_found, unsupported_media_type
from ._filters import Applied, Unapplied, bind, keep, plan
from ._negotiation import FORMATS, Format, body_format
from ._routes import int32
from ._samples import sample_item
from ._store import EndpointInfo, Store, project

__all__ = ["Call", "Handlers"]

#: The controller action's parameter name, which prefixes ``ModelState`` keys
#: (``changes.Note``); the descriptions do not say it (yet), so it is kept here.
_BODY_NAMES: Final[Mapping[type, str]] = {MessageChanges: "message"}
_DEFAULT_BODY_NAME: Final = "changes"
_WORD: Final = re.compile(r"[A-Z]?[a-z0-9]+")


@attrs.frozen
class Call:
    """One routed request, read and admitted."""

    info: EndpointInfo
    values: Mapping[str, int | str]
    fmt: Format
    body: bytes = b""
    content_type: str | None = None
    query: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint it is for."""
        return self.info.endpoint


@attrs.frozen
class _Binding:
    """How an endpoint's body binds: what its checks need, worked out once."""

    prefix: str
    """The action parameter's name, prefixing ``ModelState`` keys."""
    wires: Mapping[str, str]
    """Field name to wire name."""
    lengths: Mapping[str, tuple[str, int]]
    """Wire name to (field name, maximum length), for the fields that have one."""
    keys: tuple[tuple[str, str, str, str], ...]
    """(field, wire, path parameter, its wire name) per key, in the body's field order."""

    @classmethod
    def of(cls, endpoint: Endpoint) -> _Binding:
        body = endpoint.body
        assert body is not None
        fields = wire_fields(body)
        wires = {f.name: f.wire for f in fields}
        order = [a.name for a in attrs.fields(body)]
        params = {p.name: p.wire for p in endpoint.params}
        keys = tuple(
            (k.field, wires[k.field], k.param, params[k.param])
            for k in sorted(endpoint.keys, key=lambda k: order.index(k.field))
        )
        return cls(
            prefix=_BODY_NAMES.get(body, _DEFAULT_BODY_NAME),
            wires=wires,
            lengths={f.wire: (f.name, f.max_length) for f in fields if f.max_length is not None},
            keys=keys,
        )


def _where(info: EndpointInfo, values: Mapping[str, int | str]) -> str:
    """`` in shop 1``: the scope of a missing item, in words."""
    params = {p.name: p for p in info.endpoint.params}
    parts = []
    for name in info.collection.scope:
        param = params.get(name)
        if param is None or name not in values:
            continue
        wire = param.wire[:-2] if param.wire.endswith("Id") else param.wire
        parts.append(f"{' '.join(w.lower() for w in _WORD.findall(wire))} {values[name]}")
    return f" in {', '.join(parts)}" if parts else ""


class Handlers:
    """The answers of every role, over one :class:`Store`."""

    def __init__(self, store: Store, infos: Mapping[Endpoint, EndpointInfo]) -> None:
        self.store = store
        self.infos = infos
        self._bindings: dict[Endpoint, _Binding] = {}
        self._filters: dict[Endpoint, dict[str, Applied | Unapplied]] = {}

    # -- what a success answers -------------------------------------------------------------

    def answer(self, call: Call, *, create_missing: bool) -> web.Response:
        """Process ``call`` and answer it."""
        role = call.endpoint.role
        if role is Role.LIST:
            return self._list(call)
        if role is Role.GET:
            return self._get(call)
        return self._write(call, create_missing=create_missing)

    def missing_parent(self, call: Call) -> web.Response | None:
        """404 when a parent of the item (the conversation of a message) is not stored."""
        for parent in call.info.parents:
            pinfo = self.infos[parent]
            scope = pinfo.scope_of(call.values)
            if scope is None or pinfo.identity_param is None:
                continue
            ident = call.values[pinfo.identity_param]
            if self.store.get(parent.collection, scope, ident) is None:
                return self._missing(pinfo, call.values, ident, call.fmt)
        return None

    def _missing(
        self, info: EndpointInfo, values: Mapping[str, int | str], ident: object, fmt: Format
    ) -> web.Response:
        return not_found(
            fmt, f"{info.collection.noun} {ident} was not found{_where(info, values)}."
        )

    def paging(self, call: Call) -> tuple[int, int] | web.Response:
        """``pageSize`` and ``pageNumber`` (the documented defaults), or a 400."""
        paging = call.endpoint.paging
        assert paging is not None
        texts = {PAGE_SIZE: str(paging.size), PAGE_NUMBER: "1"}
        wires = {w.lower(): w for w in texts}
        seen: set[str] = set()
        for name, value in call.query.items():
            wire = wires.get(name.lower())
            if wire is not None and wire not in seen:
                seen.add(wire)
                texts[wire] = value
        state: dict[str, list[str]] = {}
        numbers: dict[str, int] = {}
        for wire, text in texts.items():
            number = int32(text.strip())
            if number is None:
                state[wire] = [f"The value '{text}' is not valid for {wire}."]
            elif number < 1:
                state[wire] = [f"{wire} must be at least 1."]
            else:
                numbers[wire] = number
        if state:
            return invalid(call.fmt, state)
        return numbers[PAGE_SIZE], numbers[PAGE_NUMBER]

    def filters(self, call: Call) -> list[tuple[Applied, Any]] | web.Response:
        """The list's filters the query gives, bound (:mod:`._filters`); a 400 for a
        value that does not bind, a 501 for a filter the fake cannot apply."""
        endpoint = call.endpoint
        if not endpoint.query:
            return []
        filters = self._filters.get(endpoint)
        if filters is None:
            filters = self._filters[endpoint] = plan(endpoint, call.info.collection.stored)
        given, state, refused = bind(filters, call.query)
        if state:
            return invalid(call.fmt, state)
        if refused:
            why = "; ".join(f"{r.param.wire}: {r.why}" for r in refused)
            return error(call.fmt, 501, f"The fake server cannot apply this filter. {why}.")
        return given

    def page(
        self,
        call: Call,
        paging: tuple[int, int] | None,
        given: list[tuple[Applied, Any]] | None = None,
    ) -> list[Any]:
        """The items of a list call's page (those the filters ``given`` keep), as its
        answer type."""
        scope = call.info.scope_of(call.values)
        if scope is None:
            return []
        if paging is None:
            start, size = 0, 1 << 62
        else:
            size, number = paging
            start = (number - 1) * size
        answer = call.endpoint.answer
        assert answer is not None
        chosen = None
        if given:

            def chosen(item: Any, changed: datetime | None) -> bool:
                return keep(given, item, changed)

        items = self.store.page(call.endpoint.collection, scope, start, size, chosen)
        return [project(item, answer) for item in items]

    def _list(self, call: Call) -> web.Response:
        paging = None
        if call.endpoint.paging is not None:
            checked = self.paging(call)
            if isinstance(checked, web.Response):
                return checked
            paging = checked
        given = self.filters(call)
        if isinstance(given, web.Response):
            return given
        missing = self.missing_parent(call)
        if missing is not None:
            return missing
        page = self.page(call, paging, given)
        return ok(call.fmt, encode(call.fmt, page, call.endpoint.answer))

    def stored(self, call: Call) -> Any:
        """The item a GET or UPDATE addresses, or ``None``: by its identity when the path
        names it, else the first whose key fields equal the path's (a code, say)."""
        info = call.info
        scope = info.scope_of(call.values)
        if scope is None:
            return None
        collection = call.endpoint.collection
        if info.identity_param is not None:
            return self.store.get(collection, scope, call.values[info.identity_param])
        keys = [(k.field, call.values[k.param]) for k in call.endpoint.keys]
        n = len(scope)
        for key, item in self.store.items[collection].items():
            if key[:n] == scope and all(getattr(item, f) == v for f, v in keys):
                return item
        return None

    def _get(self, call: Call) -> web.Response:
        item = self.stored(call)
        if item is None:
            missing = self.missing_parent(call)
            if missing is not None:
                return missing
            params = call.endpoint.params
            name = call.info.identity_param or (params[-1].name if params else None)
            ident = "" if name is None else call.values[name]
            return self._missing(call.info, call.values, ident, call.fmt)
        answer = call.endpoint.answer
        assert answer is not None
        return ok(call.fmt, encode(call.fmt, project(item, answer), answer))

    def _decode(self, call: Call) -> Any:
        """The body as its model (XML enum names made integers), or a 400/415 answer."""
        endpoint = call.endpoint
        assert endpoint.body is not None
        binding = self._bindings.get(endpoint)
        if binding is None:
            binding = self._bindings[endpoint] = _Binding.of(endpoint)
        prefix = binding.prefix
        if not call.body.strip() and not call.content_type:
            return invalid(call.fmt, {prefix: ["A request body is required."]})
        body_fmt = body_format(call.content_type)
        if body_fmt is None:
            return unsupported_media_type(call.fmt, call.content_type)
        try:
            received: Any = body_fmt.codec.decode(call.body, endpoint.body)
        except DecodeError as exc:
            path = prefix if exc.field is None else f"{prefix}.{exc.field}"
            return invalid(call.fmt, {path: [str(exc)]})
        state: dict[str, list[str]] = {}
        for err in field_errors(received, fmt=body_fmt.name):
            state.setdefault(f"{prefix}.{err.field}", []).append(
                _field_message(received, err.field, err.message, binding.lengths)
            )
        try:
            received = from_wire_names(received)
        except KeyError as exc:
            state.setdefault(prefix, []).append(f"Unknown enum name {exc}.")
        insert_id = endpoint.insert_id
        if insert_id is not None and getattr(received, insert_id) != 0:
            wire = binding.wires[insert_id]
            state.setdefault(f"{prefix}.{wire}", []).append(
                f"{wire} must be 0 for a new {call.info.collection.words}."
            )
        for field, wire, param, param_wire in binding.keys:
            value, url = getattr(received, field), call.values[param]
            if value != url:
                state.setdefault(f"{prefix}.{wire}", []).append(
                    f"{wire} {value} does not match the URL's {param_wire} {url}."
                )
        if state:
            return invalid(call.fmt, state)
        return received

    def _write(self, call: Call, *, create_missing: bool) -> web.Response:
        received = self._decode(call)
        if isinstance(received, web.Response):
            return received
        missing = self.missing_parent(call)
        if missing is not None:
            return missing
        info, endpoint = call.info, call.endpoint
        collection = info.collection
        scope = info.scope_of(call.values)
        if scope is None:  # pragma: no cover - every scope parameter is in the path
            return error(call.fmt, 500, "An error has occurred.")
        item: Any = project(received, collection.stored)
        if endpoint.role is Role.INSERT:
            item = _inserted(item, self.store.peek_id(endpoint.collection), collection.identity)
        else:
            assert collection.identity is not None  # describe(): an update's has one
            ident = getattr(item, collection.identity)
            if self.store.get(endpoint.collection, scope, ident) is None and not create_missing:
                return self._missing(info, call.values, ident, call.fmt)
        answer = endpoint.answer
        try:
            data = encode(call.fmt, None if answer is None else project(item, answer), answer)
        except ValidationError as exc:
            # A value known only in the request's format (the real server knows every
            # value); answer as ASP.NET does for an unhandled exception.
            return error(call.fmt, 500, f"An error has occurred. {exc}")
        new_id = None
        if endpoint.role is Role.INSERT:
            new_id = self.store.take_id(endpoint.collection)
        self.store.put(endpoint.collection, scope, item, new_id)
        self.store.bump(self.store.stored, endpoint.collection, endpoint.method, _target(call))
        return ok(call.fmt, data)

    # -- what a fault fakes -----------------------------------------------------------------

    def would_be(
        self,
        call: Call,
        paging: tuple[int, int] | None = None,
        given: list[tuple[Applied, Any]] | None = None,
    ) -> Any:
        """The answer a success would carry, for faults that fake one (never stored)."""
        endpoint = call.endpoint
        answer = endpoint.answer
        if answer is None:
            return None
        if endpoint.role is Role.LIST:
            return self.page(call, paging, given)
        if endpoint.body is not None:
            fmt = FORMATS.get(normalize_media_type(call.content_type or ""))
            if fmt is not None and call.body.strip():
                try:
                    item: Any = project(fmt.codec.decode(call.body, endpoint.body), answer)
                except DecodeError:
                    pass
                else:
                    identity = call.info.collection.identity
                    if endpoint.insert_id is not None and identity is not None:
                        ident = self.store.peek_id(endpoint.collection)
                        item = attrs.evolve(item, **{identity: ident})
                    return item
        stored = self.stored(call)
        return project(stored, answer) if stored is not None else self.sample(call)

    def sample(self, call: Call) -> Any:
        """A sample answer for the URL (when nothing stored or sent can make one)."""
        endpoint, info = call.endpoint, call.info
        answer = endpoint.answer
        if answer is None:
            return None
        fixed: dict[str, object] = {}
        for param, field in info.collection.fields.items():
            if param in call.values:
                fixed[field] = call.values[param]
        identity = info.collection.identity
        ident = None if identity is None else fixed.get(identity)
        item_id = ident if isinstance(ident, int) else 1
        if identity is not None:
            fixed[identity] = item_id
        item: Any = project(sample_item(info.collection.stored, item_id, fixed), answer)
        return [item] if endpoint.role is Role.LIST else item


def _target(call: Call) -> int | str | None:
    target = call.info.target
    return None if target is None else call.values[target]


def _inserted(item: Any, ident: int, identity: str | None) -> Any:
    """The stored form of an insert: its new identity (where it has an id field), and a
    creation date if none."""
    changes: dict[str, Any] = {} if identity is None else {identity: ident}
    for f in wire_fields(type(item)):
        if f.name == "creation_date" and f.kind is Kind.TIMESTAMP and item.creation_date is None:
            changes[f.name] = Timestamp.from_datetime(datetime.now(UTC).replace(microsecond=0))
    return attrs.evolve(item, **changes)


def _field_message(
    obj: Any, wire: str, message: str, lengths: Mapping[str, tuple[str, int]]
) -> str:
    """ASP.NET's ``MaxLengthAttribute`` text for length errors; ours for the rest."""
    spec = lengths.get(wire)
    if spec is not None:
        name, limit = spec
        value = getattr(obj, name)
        if isinstance(value, str) and utf16_length(value) > limit:
            return (
                f"The field {wire} must be a string or array type with a maximum length "
                f"of '{limit}'."
            )
    return f"The field {wire} {message}."
