"""Building requests and reading answers, without I/O (sans-I/O, like h11).

Everything the session needs to know about the API's URLs, headers and answers lives
here as pure functions, testable without an event loop, for every endpoint alike:
:func:`build_request` checks and renders any endpoint from its description
(:mod:`shopapi._resources.spec`), :func:`read_answer` turns status, headers and body into
a model or a typed error, and :func:`check_answer` holds it to the key-field rule.
"""

from __future__ import annotations

import base64
import contextlib
import re
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote, urlsplit

import attrs

from .._exceptions import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientError,
    ConfigurationError,
    DecodeError,
    FieldError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseMismatchError,
    ServerError,
    ValidationError,
)
from .._resources.spec import (
    PAGE_NUMBER,
    PAGE_SIZE,
    Endpoint,
    PathParam,
    QueryKind,
    QueryParam,
    Role,
)
from .._wire.codegen import compile_function
from .._wire.fields import wire_fields
from .._wire.timestamps import Timestamp, format_timestamp
from .._wire.validation import INT32_MAX, INT32_MIN, field_errors, is_valid
from ..codecs import Codec, CodecRegistry
from ..codecs._base import normalize_media_type
from .errorbody import parse_error_body

__all__ = [
    "RAW_METHODS",
    "Credentials",
    "Request",
    "Secret",
    "answer_type",
    "api_error",
    "basic_auth_header",
    "build_call",
    "build_raw_request",
    "build_request",
    "check_answer",
    "check_id",
    "check_page",
    "codec_headers",
    "normalize_base_url",
    "read_answer",
    "render_path",
    "render_query",
]

T = TypeVar("T")


class Request(NamedTuple):
    """One API call, ready to send (credentials are added by the transport).

    Attributes:
        method: HTTP method.
        path: The path below the base URL (``v1/Shops/1/MessageConversations/2``),
            for logs.
        url: The absolute URL.
        headers: ``Content-Type`` and ``Accept``.
        body: The encoded body, or ``None``.
        idempotent: Whether repeating it is harmless (PUT, GET yes; POST no).
    """

    method: str
    path: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None
    idempotent: bool = True


class Secret(str):
    """A ``str`` whose ``repr`` hides it: the ``Authorization`` value.

    The header value travels through aiohttp's request headers, the client's cached
    header mappings and the locals of running frames; wherever it lands, ``repr`` (what
    tracebacks with ``capture_locals=True``, ``vars()`` dumps and debuggers show) gives
    ``'<redacted>'``. ``str()`` and formatting still give the value, which is what goes
    on the wire.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


@attrs.frozen(repr=False)
class Credentials:
    """HTTP Basic credentials. The repr never shows them."""

    username: str
    password: str = attrs.field(repr=False)
    header: Secret = attrs.field(init=False, repr=False)

    @header.default
    def _header(self) -> Secret:
        return Secret(basic_auth_header(self.username, self.password))

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"


def basic_auth_header(username: str, password: str) -> str:
    """``Authorization`` value for HTTP Basic (UTF-8, as ASP.NET reads it)."""
    if not isinstance(username, str) or not isinstance(password, str):
        raise ConfigurationError("auth must be a (username, password) pair of strings")
    if ":" in username:
        raise ConfigurationError("a Basic auth username cannot contain ':'")
    if any(c in username + password for c in "\r\n\x00"):
        raise ConfigurationError("credentials cannot contain line breaks or NUL")
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def normalize_base_url(base_url: str) -> str:
    """Check a tenant root URL and give it exactly one trailing slash.

    Raises:
        ConfigurationError: Not http(s), no host, credentials in it, or a query or
            fragment (paths are appended to it).
    """
    if not isinstance(base_url, str):
        raise ConfigurationError(f"base_url must be a string, got {type(base_url).__name__}")
    try:
        parts = urlsplit(base_url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigurationError(f"base_url is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError("base_url must start with https:// (or http://)")
    if not parts.hostname:
        raise ConfigurationError("base_url has no host")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError("put credentials in auth=(username, password), not in base_url")
    if parts.query or parts.fragment or "?" in base_url or "#" in base_url:
        raise ConfigurationError("base_url cannot have a query or a fragment")
    if any(c in base_url for c in " \r\n\t"):
        raise ConfigurationError("base_url cannot contain whitespace")
    return base_url.strip().rstrip("/") + "/"


def check_id(name: str, value: object) -> int:
    """An id for a URL: an int (not a bool) within .NET's ``int`` range, not negative.

    Raises:
        ValidationError: Naming ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError([FieldError(name, f"must be an int, not {type(value).__name__}")])
    if not 0 <= value <= INT32_MAX:
        raise ValidationError([FieldError(name, f"{value} is not a valid id")])
    return int(value)


_HEADERS: weakref.WeakKeyDictionary[Codec, tuple[Mapping[str, str], Mapping[str, str]]] = (
    weakref.WeakKeyDictionary()
)


def codec_headers(codec: Codec, *, body: bool = True) -> Mapping[str, str]:
    """``Content-Type`` (with a body) and ``Accept`` for a codec: one shared, read-only
    mapping each, so the session can cache what it derives from them."""
    try:
        with_body, without_body = _HEADERS[codec]
    except (KeyError, TypeError):
        content_type = str(getattr(codec, "content_type", codec.media_type))
        with_body = MappingProxyType({"Content-Type": content_type, "Accept": codec.media_type})
        without_body = MappingProxyType({"Accept": codec.media_type})
        with contextlib.suppress(TypeError):  # a codec without weakrefs is not cached
            _HEADERS[codec] = (with_body, without_body)
    return with_body if body else without_body


def check_page(page_number: object, page_size: object) -> tuple[int, int]:
    """``pageNumber`` (from 1) and ``pageSize`` (at least 1), as .NET ints.

    Raises:
        ValidationError: Naming each bad parameter.
    """
    errors = []
    for name, value in ((PAGE_NUMBER, page_number), (PAGE_SIZE, page_size)):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(FieldError(name, f"must be an int, not {type(value).__name__}"))
        elif not 1 <= value <= INT32_MAX:
            errors.append(FieldError(name, f"{value} is not >= 1"))
    if errors:
        raise ValidationError(errors)
    return int(page_number), int(page_size)  # type: ignore[call-overload]


class _Plan(NamedTuple):
    """What :func:`build_request`, :func:`check_answer` and :func:`answer_type` derive
    from one endpoint, once, when it is first used: the per-call work is then only what
    depends on the call's own values."""

    #: The path for one call's path values (see :func:`render_path`).
    render: Callable[[Sequence[object]], str]
    #: (field, index of its path parameter, wire name, label), in the body's field order.
    body_keys: tuple[tuple[str, int, str, str], ...]
    #: (field, wire name, what a new one is called) for an insert.
    insert: tuple[str, str, str] | None
    #: (field, index of its path parameter, label) for the answer, innermost first.
    answer_keys: tuple[tuple[str, int, str], ...]
    #: Whether it has a query at all (filters or paging).
    queried: bool
    #: What :func:`read_answer` expects (see :func:`answer_type`).
    expect: Any
    #: Whether a request to it is idempotent without ``allow_duplicates``.
    idempotent: bool
    #: The key-field check of an answer against a call's path values (see
    #: :func:`check_answer`), or ``None`` when the endpoint has no key or no answer.
    check: Callable[[Sequence[object], Any], None] | None


_PLANS: dict[int, tuple[Endpoint, _Plan]] = {}
_ROLE_PHRASE = {Role.GET: "asked for", Role.UPDATE: "asked to update", Role.INSERT: "posted to"}


def _plan(endpoint: Endpoint) -> _Plan:
    cached = _PLANS.get(id(endpoint))
    if cached is not None and cached[0] is endpoint:
        return cached[1]
    index = {p.name: i for i, p in enumerate(endpoint.params)}
    body_keys: list[tuple[str, int, str, str]] = []
    insert = None
    if endpoint.body is not None:
        wires = {f.name: f.wire for f in wire_fields(endpoint.body)}
        order = list(wires)
        for key in sorted(endpoint.keys, key=lambda k: order.index(k.field)):
            param = endpoint.params[index[key.param]]
            body_keys.append((key.field, index[key.param], wires[key.field], param.label))
        if endpoint.insert_id is not None:
            noun = re.sub(r"([A-Z])", r" \1", endpoint.body.__name__.removesuffix("Changes"))
            insert = (endpoint.insert_id, wires[endpoint.insert_id], noun.strip().lower())
    answer_keys = tuple(
        (key.field, index[key.param], endpoint.params[index[key.param]].label)
        for key in reversed(endpoint.keys)
    )
    answer = endpoint.answer
    plan = _Plan(
        _path_renderer(endpoint),
        tuple(body_keys),
        insert,
        answer_keys,
        endpoint.paging is not None or bool(endpoint.query),
        None if answer is None else list[answer] if endpoint.many else answer,  # type: ignore[valid-type]
        endpoint.idempotent,
        None if answer is None or not endpoint.keys else _answer_checks(endpoint, answer_keys),
    )
    _PLANS[id(endpoint)] = (endpoint, plan)
    return plan


def _answer_checks(
    endpoint: Endpoint, keys: tuple[tuple[str, int, str], ...]
) -> Callable[[Sequence[object], Any], None]:
    """The key-field rule for answers of ``endpoint``, made once: a check of an answer
    against one call's path values (``keys`` as in ``_Plan.answer_keys``). A call's own
    check is it with the path bound (:func:`functools.partial`, no frame to make it).
    """
    if endpoint.many:
        if len(keys) == 1:  # the usual list: one key, one C-level getter per item
            ((field, at, label),) = keys
            get = attrgetter(field)

            def check_one_key(path: Sequence[object], page: Any) -> None:
                expected = path[at]
                for item in page:
                    if get(item) != expected:
                        index, found = next(
                            (i, get(x)) for i, x in enumerate(page) if get(x) != expected
                        )
                        raise ResponseMismatchError(
                            f"asked for {label} {expected}, item [{index}] is in {label} {found}"
                        )

            return check_one_key

        def check_items(path: Sequence[object], page: Any) -> None:
            for index, item in enumerate(page):
                for field, at, label in keys:
                    found = getattr(item, field)
                    if found != path[at]:
                        raise ResponseMismatchError(
                            f"asked for {label} {path[at]}, item [{index}] is in {label} {found}"
                        )

        return check_items
    phrase = _ROLE_PHRASE[endpoint.role]
    # The answer's key fields and the path values they must equal, in the same order:
    # one C-level getter each side (a single value, or a tuple of several).
    ordered = sorted(keys, key=lambda k: k[1])
    get_all = attrgetter(*(field for field, _, _ in ordered))
    pick = itemgetter(*(at for _, at, _ in ordered))

    def check(path: Sequence[object], value: Any) -> None:
        if get_all(value) != pick(path):
            asked = " in ".join(f"{label} {path[i]}" for _, i, label in keys)
            named = " in ".join(f"{label} {getattr(value, f)}" for f, _, label in keys)
            raise ResponseMismatchError(f"{phrase} {asked}, the answer names {named}")

    return check


_PLACEHOLDER = re.compile(r"\{(\*?)([A-Za-z][A-Za-z0-9]*)\}")


def _code(param: PathParam, value: object) -> str:
    """A ``str`` path parameter as one encoded segment (or, for ``{*code}``, encoded
    segments joined by ``/``): nothing in it can change the path's structure."""
    if not isinstance(value, str):
        raise ValidationError(
            [FieldError(param.wire, f"must be a str, not {type(value).__name__}")]
        )
    segments = value.split("/") if param.catch_all else [value]
    for segment in segments:
        if segment in ("", ".", ".."):
            raise ValidationError(
                [FieldError(param.wire, f"{value!r} has an empty, '.' or '..' segment")]
            )
    return "/".join(quote(segment, safe="") for segment in segments)


def render_path(endpoint: Endpoint, path: Sequence[object]) -> str:
    """The endpoint's path with ``path`` (values in template order) put in: ids as
    checked ints, codes percent-encoded.

    Raises:
        ValidationError: A value is not of its parameter's type (naming its wire name).
        ConfigurationError: Not one value per parameter.
    """
    return _plan(endpoint).render(path)


def _path_renderer(endpoint: Endpoint) -> Callable[[Sequence[object]], str]:
    """The endpoint's path renderer, made once.

    Any value of any parameter goes through the careful loop (ids checked, codes
    encoded, one value per parameter). A template of ids only also gets a compiled
    function for the usual call, every value a plain int in range, which checks them
    inline and fills one f-string (what the hand-written ``conversation_path`` did);
    anything else it hands to the loop.
    """
    params = endpoint.params
    pieces = tuple(_PLACEHOLDER.split(endpoint.path)[::3])
    after = pieces[1:]

    def render_any(path: Sequence[object]) -> str:
        if len(path) != len(params):
            raise ConfigurationError(
                f"{endpoint.method} {endpoint.path} takes {len(params)} path parameters, "
                f"got {len(path)}"
            )
        out = pieces[0]
        for param, value, piece in zip(params, path, after, strict=True):
            if param.type is int:
                if type(value) is not int or not 0 <= value <= INT32_MAX:
                    value = check_id(param.wire, value)
                out = f"{out}{value}{piece}"
            else:
                out = f"{out}{_code(param, value)}{piece}"
        return out

    if not all(p.type is int for p in params):
        return render_any
    names = [f"v{i}" for i in range(len(params))]
    literal = pieces[0].replace("{", "{{").replace("}", "}}")
    for name, piece in zip(names, after, strict=True):
        literal += "{" + name + "}" + piece.replace("{", "{{").replace("}", "}}")
    lines = ["def render_path(path):", f"    if len(path) == {len(names)}:"]
    if names:
        lines.append(f"        {', '.join(names)}, = path")
        ok = " and ".join(f"type({n}) is _int and 0 <= {n} <= {INT32_MAX}" for n in names)
        lines.append(f"        if {ok}:")
        lines.append(f"            return f{literal!r}")
    else:
        lines.append(f"        return {literal!r}")
    lines.append("    return _render_any(path)")
    source = "\n".join(lines) + "\n"
    return compile_function("render_path", source, {"_int": int, "_render_any": render_any})


def _query_value(param: QueryParam, value: object) -> str:
    """One filter's value as the query writes it; a wrong type names the filter.

    A date is ISO 8601 with its offset (percent-encoded: a bare ``+`` reads as a space).
    Web API binds a query value with the invariant culture
    (``QueryStringValueProviderFactory``), a ``DateTime`` through ``DateTime.Parse``,
    which keeps an offset's instant but reads text without one as the server's local
    time: so a naive ``datetime`` is refused rather than sent.
    """
    kind = param.kind
    problem = None
    if kind is QueryKind.BOOL:
        if isinstance(value, bool):
            return "true" if value else "false"
    elif kind is QueryKind.INT:
        if isinstance(value, int) and not isinstance(value, bool):
            if INT32_MIN <= value <= INT32_MAX:
                return str(value)
            problem = f"{value} is beyond .NET's int"
    elif kind is QueryKind.STR:
        if isinstance(value, str):
            return quote(value, safe="")
    elif kind is QueryKind.DATE:
        if isinstance(value, datetime):
            if value.tzinfo is None and not isinstance(value, Timestamp):
                problem = "is a naive datetime: give an aware one (or a Timestamp)"
            else:
                try:
                    return quote(format_timestamp(value), safe="")
                except ValueError as exc:
                    problem = str(exc)
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes)):  # IDS
        ids = list(value)
        if ids and all(type(i) is int and 0 <= i <= INT32_MAX for i in ids):
            return ",".join(map(str, ids))
        problem = f"must be one or more ids (ints within .NET's int), got {ids!r}"
    if problem is None:
        problem = f"must be a {kind.value}, not {type(value).__name__}"
    raise ValidationError([FieldError(param.wire, problem)])


def render_query(
    endpoint: Endpoint,
    query: Mapping[str, object] | None = None,
    *,
    page_number: int | None = None,
    page_size: int | None = None,
) -> str:
    """The query string (without ``?``): the filters given (``None`` is not given), in
    the description's order, then ``pageSize`` and ``pageNumber`` for a paged list (by
    default page 1 of the documented size).

    Raises:
        ValidationError: A bad filter value or page parameter, naming it.
        ConfigurationError: A filter the endpoint does not have, or paging asked of an
            endpoint that does not page.
    """
    given = dict(query) if query else {}
    parts = []
    for param in endpoint.query:
        value = given.pop(param.name, None)
        if value is not None:
            parts.append(f"{param.wire}={_query_value(param, value)}")
    if given:
        raise ConfigurationError(
            f"{endpoint.method} {endpoint.path} has no filter {', '.join(sorted(given))}"
        )
    if endpoint.paging is not None:
        size = endpoint.paging.size if page_size is None else page_size
        number, size = check_page(1 if page_number is None else page_number, size)
        parts.append(f"{PAGE_SIZE}={size}&{PAGE_NUMBER}={number}")
    elif page_number is not None or page_size is not None:
        raise ConfigurationError(f"{endpoint.method} {endpoint.path} does not page")
    return "&".join(parts)


def build_request(
    endpoint: Endpoint,
    base_url: str,
    codec: Codec,
    *,
    path: Sequence[object] = (),
    query: Mapping[str, object] | None = None,
    page_number: int | None = None,
    page_size: int | None = None,
    body: object = None,
    allow_duplicates: bool = False,
) -> Request:
    """Check and render any endpoint from its description.

    The path comes from :func:`render_path`, the query from :func:`render_query`. A
    body must be the endpoint's body type and is checked first, every problem at once:
    the help page's constraints, each key field against the path parameter it names
    (``None`` is left to the required-field check), an insert's id against 0, and what
    the codec's format can carry. An insert is idempotent only with
    ``allow_duplicates`` (a retry after a timeout may then store it twice).

    Raises:
        ValidationError: Nothing has been sent; the error names every offending field
            or parameter by its wire name.
        ConfigurationError: The call does not fit the endpoint (see the renderers).
    """
    return build_call(
        endpoint,
        base_url,
        codec,
        path,
        body,
        query=query,
        page_number=page_number,
        page_size=page_size,
        allow_duplicates=allow_duplicates,
    )[0]


def build_call(
    endpoint: Endpoint,
    base_url: str,
    codec: Codec,
    path: Sequence[object] = (),
    body: object = None,
    *,
    query: Mapping[str, object] | None = None,
    page_number: int | None = None,
    page_size: int | None = None,
    allow_duplicates: bool = False,
) -> tuple[Request, Any, Callable[[Any], None] | None]:
    """:func:`build_request`, with :func:`answer_type` and :func:`check_answer` of the
    same call, from one look-up of what the endpoint derives: the request, what
    :func:`read_answer` expects, and the answer's check (what the session needs).

    Raises:
        ValidationError, ConfigurationError: As :func:`build_request`.
    """
    cached = _PLANS.get(id(endpoint))  # _plan's look-up, inline: this is every call
    plan = cached[1] if cached is not None and cached[0] is endpoint else _plan(endpoint)
    rendered = plan.render(path)
    if plan.queried or query or page_number is not None or page_size is not None:
        query_string = render_query(endpoint, query, page_number=page_number, page_size=page_size)
        if query_string:
            rendered = f"{rendered}?{query_string}"
    model = endpoint.body
    check = None if plan.check is None else partial(plan.check, path)
    if model is None:
        if body is not None:
            raise ConfigurationError(f"{endpoint.method} {endpoint.path} takes no body")
        headers = codec_headers(codec, body=False)
        return Request(endpoint.method, rendered, base_url + rendered, headers), plan.expect, check
    if not isinstance(body, model):
        found = type(body).__name__
        raise ValidationError([FieldError("<body>", f"expected {model.__name__}, got {found}")])
    errors = [] if is_valid(body) else field_errors(body)
    if plan.insert is not None:
        field, wire, noun = plan.insert
        value = getattr(body, field)
        if value != 0:
            errors.append(FieldError(wire, f"is {value!r}; a new {noun} must have {wire} 0"))
    for field, at, wire, label in plan.body_keys:
        value = getattr(body, field)
        if value is not None and value != path[at]:
            errors.append(FieldError(wire, f"is {value!r} but the URL names {label} {path[at]}"))
    if errors:
        raise ValidationError(errors, type_name=model.__name__)
    request = Request(
        endpoint.method,
        rendered,
        base_url + rendered,
        codec_headers(codec),
        codec.encode(body),
        plan.idempotent or allow_duplicates,
    )
    return request, plan.expect, check


#: The methods :func:`build_raw_request` sends.
RAW_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH"})
_UNSAFE_PATH = re.compile(r"[\x00-\x20\x7f\\?#]")


def _raw_path(path: object) -> str:
    """A relative path below the base URL, each segment percent-encoded.

    Raises:
        ConfigurationError: Not a relative path of plain segments: absolute, with a
            scheme, empty, ``.`` or ``..`` segments, a query, a fragment, a backslash or
            whitespace; nothing may lead outside the base URL.
    """
    if not isinstance(path, str):
        raise ConfigurationError(f"path must be a str, not {type(path).__name__}")
    problem = None
    if not path or path.startswith("/"):
        problem = "is not relative to the base URL (give 'v1/...', without a leading '/')"
    elif "://" in path or path.split("/", 1)[0].endswith(":"):
        problem = "names a scheme: only paths below the base URL are sent"
    elif _UNSAFE_PATH.search(path):
        problem = "holds whitespace, a backslash, '?' or '#' (give the query as query=)"
    else:
        segments = path.split("/")
        if any(s in ("", ".", "..") for s in segments):
            problem = "has an empty, '.' or '..' segment"
    if problem is not None:
        raise ConfigurationError(f"refusing path {path[:100]!r}: it {problem}")
    return "/".join(quote(segment, safe="") for segment in path.split("/"))


def _raw_query_value(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return quote(value, safe="")
    if isinstance(value, datetime):
        if value.tzinfo is None and not isinstance(value, Timestamp):
            raise ValidationError(
                [FieldError(name, "is a naive datetime: give an aware one (or a Timestamp)")]
            )
        return quote(format_timestamp(value), safe="")
    if isinstance(value, Iterable) and not isinstance(value, bytes):
        ids = list(value)
        if ids and all(type(i) is int for i in ids):
            return ",".join(map(str, ids))
    raise ValidationError(
        [FieldError(name, f"must be a str, int, bool, aware datetime or ids, not {value!r}")]
    )


def build_raw_request(
    method: str,
    path: str,
    base_url: str,
    codec: Codec,
    *,
    query: Mapping[str, object] | None = None,
    body: object = None,
    idempotent: bool | None = None,
) -> Request:
    """A request to an endpoint no description has (one the help pages do not show).

    The path is taken as plain segments, each percent-encoded, so it always stays below
    ``base_url``; the query's values are written as the typed filters are (a date as ISO
    8601 with its offset). A body is ``bytes`` sent as they are, with the codec's
    ``Content-Type``, or a model, validated and encoded by the codec. Nothing tells
    whether the endpoint is idempotent, so only a GET is, unless ``idempotent`` says
    otherwise (ShopCtrl's own ``PUT v1/Shops/{shopId}/Ticket`` adds a ticket).

    Raises:
        ConfigurationError: An unknown method, or a path that is not below the base URL.
        ValidationError: A model body that does not validate, or a bad query value.
    """
    if method not in RAW_METHODS:
        raise ConfigurationError(f"method must be one of {', '.join(sorted(RAW_METHODS))}")
    rendered = _raw_path(path)
    if query:
        parts = []
        for name, value in query.items():
            if not isinstance(name, str) or not name or _UNSAFE_PATH.search(name):
                raise ConfigurationError(f"query parameter name {name!r} is not a plain name")
            if value is not None:
                parts.append(f"{quote(name, safe='')}={_raw_query_value(name, value)}")
        if parts:
            rendered = f"{rendered}?{'&'.join(parts)}"
    if idempotent is None:
        idempotent = method == "GET"
    if body is None:
        return Request(
            method,
            rendered,
            base_url + rendered,
            codec_headers(codec, body=False),
            None,
            idempotent,
        )
    if isinstance(body, (bytes, bytearray, memoryview)):
        data = bytes(body)
    elif attrs.has(type(body)):
        errors = [] if is_valid(body) else field_errors(body)
        if errors:
            raise ValidationError(errors, type_name=type(body).__name__)
        data = codec.encode(body)
    else:
        raise ConfigurationError(f"body must be bytes or a model, not {type(body).__name__}")
    return Request(method, rendered, base_url + rendered, codec_headers(codec), data, idempotent)


_STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def api_error(
    request: Request, status: int, headers: Mapping[str, str], body: bytes, *, attempts: int = 1
) -> ApiError:
    """The typed error for a non-2xx answer, with the server's message if it gave one."""
    cls = _STATUS_ERRORS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ClientError if status >= 400 else ApiError
    parsed = parse_error_body(body, headers.get("Content-Type"))
    return cls(
        status,
        method=request.method,
        url=request.url,
        body=body,
        message=parsed.message if parsed else None,
        model_state=parsed.model_state if parsed else None,
        headers=headers,
        attempts=attempts,
    )


def pick_decoder(codec: Codec, registry: CodecRegistry, content_type: str | None) -> Codec:
    """The codec for an answer's ``Content-Type``: the client's own when it matches.

    Raises:
        DecodeError: The answer's media type has no codec (an HTML error page ...).
    """
    if not content_type:
        return codec
    own = codec.media_type
    if content_type.startswith(own) and content_type[len(own) : len(own) + 1] in ("", ";"):
        return codec  # the usual case, without normalising: "application/json; charset=..."
    media_type = normalize_media_type(content_type)
    if media_type == codec.media_type:
        return codec
    found = registry.lookup(content_type)
    if found is None:
        raise DecodeError(f"unexpected Content-Type {content_type[:100]!r}", media_type=media_type)
    if type(found) is type(codec):
        return codec
    return found


def read_answer(
    request: Request,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    codec: Codec,
    registry: CodecRegistry,
    expect: Any,
    check: Callable[[Any], None] | None = None,
    attempts: int = 1,
) -> Any:
    """Map an answer to the expected model, or raise the typed error.

    ``expect=None`` is an endpoint documented without a model answer (``PUT
    v1/ShopGroups`` shows ASP.NET's ``HttpResponseMessage``, the action's own return
    type, not a body): a 2xx is the whole answer, its body is not read, and the value
    is ``None``.

    Raises:
        ApiError: A non-2xx status (the subclass per status family).
        DecodeError: A 2xx whose body is not an ``expect``.
        ResponseMismatchError: A 2xx about another resource (from ``check``).
    """
    if not 200 <= status < 300:
        raise api_error(request, status, headers, body, attempts=attempts)
    if expect is None:
        return None
    if expect is bytes:  # a raw request that asked for no model: the body as it came
        return body
    decoder = pick_decoder(codec, registry, headers.get("Content-Type"))
    value = decoder.decode(body, expect)
    if check is not None:
        check(value)
    return value


def answer_type(endpoint: Endpoint) -> Any:
    """What :func:`read_answer` expects: the answer type, ``list[...]`` of it for a
    list, or ``None`` for an endpoint with no model answer (made once per endpoint)."""
    return _plan(endpoint).expect


def check_answer(endpoint: Endpoint, path: Sequence[object]) -> Callable[[Any], None] | None:
    """The ``check`` for :func:`read_answer` that holds an answer to the key-field rule:
    each key field of the answer (of each item of a list) equals its path parameter.

    One rule for every endpoint: an answer about another shop, conversation ... is a
    :class:`~shopapi.ResponseMismatchError`. ``None`` when the endpoint has no key.
    """
    check = _plan(endpoint).check
    return None if check is None else partial(check, path)
