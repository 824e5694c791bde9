"""Resources as data: each endpoint of the API, declared once (botocore's way).

One :class:`Endpoint` per endpoint the help pages document, grouped in one
:class:`Resource` per resource module. Everything else derives from them, so a rule
about an endpoint has exactly one home:

* request building: the path from :attr:`Endpoint.path` and its :class:`PathParam`\\ s,
  the query from its :class:`QueryParam`\\ s (and :class:`Paging`), the body checked as
  a :attr:`Endpoint.body` whose :class:`Key` fields match the URL, and ``Id`` 0 where
  the endpoint inserts (:attr:`Endpoint.insert_id`);
* the answer checks: every key field of the answer, or of each item of a list, equals
  the path parameter it names (the key-field rule, one place);
* retries: :attr:`Endpoint.idempotent` follows the role, so an insert is never retried
  unless the request provably never reached the server;
* the client's methods (thin typed wrappers, one per endpoint, named
  :attr:`Endpoint.name`), the bulk path (an item's path parameters come from its key
  fields), the command line, the fake server's routes and storage
  (:attr:`Endpoint.collection`), the conformance suite (every body and answer type) and
  the contract tests (every endpoint x JSON/XML x the standard faults).

The descriptions are checked when they are made: a template whose placeholders are not
its parameters, or a key that names no parameter, fails at import.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from typing import Final

import attrs

__all__ = [
    "Endpoint",
    "Key",
    "PathParam",
    "Paging",
    "QueryKind",
    "QueryParam",
    "Resource",
    "Role",
]

#: The query parameters of a paged list, as every paged endpoint names them.
PAGE_SIZE: Final = "pageSize"
PAGE_NUMBER: Final = "pageNumber"

_PLACEHOLDER = re.compile(r"\{(\*?)([A-Za-z][A-Za-z0-9]*)\}")
_PYTHON_NAME = re.compile(r"[a-z][a-z0-9_]*")


class Role(enum.Enum):
    """What an endpoint does to the items it addresses."""

    LIST = "list"
    """Read a collection (paged or not)."""
    GET = "get"
    """Read one item."""
    UPDATE = "update"
    """Replace one stored item; repeating it is harmless."""
    INSERT = "insert"
    """Add a new item; repeating it may add it twice (whatever the HTTP verb)."""


class QueryKind(enum.Enum):
    """How a query parameter's value is written."""

    INT = "integer"
    STR = "string"
    BOOL = "boolean"
    DATE = "date"
    IDS = "ids"
    """Integer ids, comma separated (``parcelStatusId=1,3``)."""


@attrs.frozen(kw_only=True)
class PathParam:
    """One ``{placeholder}`` of a path template.

    Attributes:
        wire: Its name in the template (``shopId``).
        name: The Python keyword that carries it (``shop_id``).
        type: ``int`` for ids (checked to be within .NET's ``int``, not negative), or
            ``str`` for codes (percent-encoded as one segment).
        catch_all: ``{*code}``: a code that may contain ``/``, each segment encoded.
        label: How errors name what it identifies (``the URL names shop 7``); by default
            the words of :attr:`wire` without ``Id`` (``shopGroupId``: ``shop group``).
    """

    wire: str
    name: str = attrs.field()
    type: type[int] | type[str] = int
    catch_all: bool = False
    label: str = attrs.field()

    @label.default
    def _label(self) -> str:
        words = re.sub(r"([A-Z])", r" \1", self.wire.removesuffix("Id")).strip()
        return words.lower()

    @name.validator
    def _check_name(self, _: attrs.Attribute[str], value: str) -> None:
        if not _PYTHON_NAME.fullmatch(value):
            raise ValueError(f"path parameter name {value!r} is not a snake_case keyword")


@attrs.frozen(kw_only=True)
class QueryParam:
    """One query parameter of a list endpoint (a filter).

    Attributes:
        wire: Its name on the wire (``fromDateChanged``).
        name: The Python keyword (``from_date_changed``).
        kind: How its value is written.
        default: The value the help page documents as default, or ``None``: then it is
            sent only when given.
        fields: For a text search, the answer's fields it covers as the help page names
            them (``search``: ``Name, Code, HSCode, EAN``); the fake server searches
            those its model shows.
    """

    wire: str
    name: str
    kind: QueryKind
    default: object = None
    fields: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Paging:
    """``pageSize`` and ``pageNumber`` (from 1); the first empty page ends a list.

    Attributes:
        size: The documented default ``pageSize`` (100; 1000 for product lists).
    """

    size: int = 100


@attrs.frozen
class Key:
    """A field of the body and of the answer that must equal a path parameter.

    Attributes:
        field: The model's Python field name (``shop_id``).
        param: The :attr:`PathParam.name` it must equal (``shop_id``).
    """

    field: str
    param: str


@attrs.frozen(kw_only=True)
class Endpoint:
    """One endpoint: everything the client, the fake server and the tests need to know.

    Attributes:
        name: The client method (``update``); a paged list also has ``{name}_page``.
        role: What it does (see :class:`Role`).
        method: The HTTP method.
        path: The path template as the help page shows it, without the query
            (``v1/Shops/{shopId}/MessageConversations/{messageConversationId}``).
        params: The template's parameters, in template order.
        query: Its query parameters (filters), in the help page's order.
        paging: How it pages, for a paged list.
        body: The request body's model type, if it takes one.
        answer: The answer's model type (a list's item type), or ``None`` for no body.
        keys: The fields that must equal path parameters, in the body before sending
            and in the answer (each item of a list) after.
        insert_id: For an insert, the body field that must be 0; ``None`` only for an
            insert whose help page is cut off before any id field shows (``POST
            v1/Shops``): then nothing is checked, as nothing is invented about a field
            no page shows. Whatever it is, an insert is never retried unless the
            request provably never reached the server.
        collection: The stored collection it reads or writes (the fake server's
            storage; two endpoints with the same collection address the same items).
        summary: The help page's description.
        documented: ``False`` for an endpoint no help page shows (said in its docs).
        partial: The help page is cut off, so it may document more than is shown.
    """

    name: str
    role: Role
    method: str
    path: str
    params: tuple[PathParam, ...] = ()
    query: tuple[QueryParam, ...] = ()
    paging: Paging | None = None
    body: type | None = None
    answer: type | None = None
    keys: tuple[Key, ...] = ()
    insert_id: str | None = None
    collection: str
    summary: str
    documented: bool = True
    partial: bool = False

    def __attrs_post_init__(self) -> None:
        placeholders = [(star == "*", wire) for star, wire in _PLACEHOLDER.findall(self.path)]
        declared = [(p.catch_all, p.wire) for p in self.params]
        if placeholders != declared:
            raise ValueError(
                f"{self.method} {self.path}: the template's placeholders {placeholders} are "
                f"not its params {declared}"
            )
        if "?" in self.path:
            raise ValueError(f"{self.path}: the query belongs in query= and paging=")
        for param in self.params:
            if param.catch_all and param.type is not str:
                raise ValueError(f"{self.path}: the catch-all {{*{param.wire}}} is a str code")
        names = {p.name for p in self.params}
        for key in self.keys:
            if key.param not in names:
                raise ValueError(f"{self.path}: key {key} names no path parameter")
            for model in (self.body, self.answer):
                if model is not None and key.field not in attrs.fields_dict(model):
                    raise ValueError(f"{self.path}: key {key} is no field of {model.__name__}")
        if self.insert_id is not None and (
            self.body is None or self.insert_id not in attrs.fields_dict(self.body)
        ):
            raise ValueError(f"{self.path}: insert_id {self.insert_id!r} is no body field")
        wires = [q.wire for q in self.query]
        if self.paging is not None:
            if self.role is not Role.LIST:
                raise ValueError(f"{self.path}: only a list pages")
            wires += [PAGE_SIZE, PAGE_NUMBER]
        if len(set(wires)) != len(wires):
            raise ValueError(f"{self.path}: a query parameter is declared twice")
        if self.insert_id is not None and self.role is not Role.INSERT:
            raise ValueError(f"{self.path}: insert_id is for inserts")
        if self.role is Role.INSERT and self.insert_id is None:
            # Only a cut-off page may leave it unsaid, and only where no id field shows.
            if not self.partial:
                raise ValueError(f"{self.path}: every insert whose page is whole has insert_id")
            if self.body is not None and "id" in attrs.fields_dict(self.body):
                raise ValueError(f"{self.path}: its body shows an id field: name it insert_id")
        if (self.body is not None) != (self.role in (Role.UPDATE, Role.INSERT)):
            raise ValueError(f"{self.path}: updates and inserts take a body, reads do not")

    @property
    def idempotent(self) -> bool:
        """Whether repeating it is harmless: everything but an insert."""
        return self.role is not Role.INSERT

    @property
    def many(self) -> bool:
        """Whether the answer is a collection of :attr:`answer`."""
        return self.role is Role.LIST

    def given_params(self) -> tuple[PathParam, ...]:
        """The path parameters no key field carries: a ``{name}_many`` call takes them
        positionally, before the items (a message has no shop field, so
        ``post_message_many(shop_id, items)``); the others come from each item."""
        keyed = {key.param for key in self.keys}
        return tuple(p for p in self.params if p.name not in keyed)

    def methods(self) -> tuple[str, ...]:
        """The client methods it gives: :attr:`name`, plus ``{name}_page`` for a paged
        list and ``{name}_many`` for an update or an insert."""
        if self.paging is not None:
            return (self.name, f"{self.name}_page")
        if self.role in (Role.UPDATE, Role.INSERT):
            return (self.name, f"{self.name}_many")
        return (self.name,)


@attrs.frozen(kw_only=True)
class Resource:
    """The endpoints of one resource, as one module of :mod:`shopapi._resources` declares
    them.

    Attributes:
        name: The client attribute (``message_conversations``).
        cli: The command-line noun (``conversations``).
        endpoints: Its endpoints.
        methods: The class of ``client.<name>``: thin typed wrappers, one method per
            endpoint, made with the client's :class:`~shopapi._resources.api.Caller`.
    """

    name: str
    cli: str
    endpoints: tuple[Endpoint, ...]
    methods: type

    def __attrs_post_init__(self) -> None:
        names = [e.name for e in self.endpoints]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: two endpoints share a method name")
        for method in (m for e in self.endpoints for m in e.methods()):
            if not callable(getattr(self.methods, method, None)):
                raise ValueError(f"{self.name}: {self.methods.__name__} has no {method}()")

    def endpoint(self, name: str) -> Endpoint:
        """The endpoint whose client method is ``name``.

        Raises:
            KeyError: It has none.
        """
        for endpoint in self.endpoints:
            if endpoint.name == name:
                return endpoint
        raise KeyError(name)

    def by_role(self, role: Role) -> Iterator[Endpoint]:
        """Its endpoints with ``role``, in declaration order."""
        return (e for e in self.endpoints if e.role is role)

    def models(self) -> tuple[type, ...]:
        """Every body and answer type its endpoints name, each once, in order."""
        seen: dict[type, None] = {}
        for endpoint in self.endpoints:
            for model in (endpoint.body, endpoint.answer):
                if model is not None:
                    seen.setdefault(model)
        return tuple(seen)
