"""JSON as Json.NET writes and reads it.

Use :class:`JsonCodec`, or :func:`configure_converter` to teach a cattrs converter the
same rules (``converter.unstructure(model)`` then gives the dict Json.NET would write).
The rules are listed there; among them, members a model does not declare are kept as
their raw text and written back in place (:class:`~shopapi.Unknown`).
"""

from __future__ import annotations

import codecs as _stdlib_codecs
import functools
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import cattrs
import msgspec
import orjson

from .._exceptions import DecodeError
from .._wire.decimals import decimal_json_text
from .._wire.fields import Kind, WireField, json_order
from .._wire.kinds import (
    INT32_MAX,
    INT32_MIN,
    JSON_MEDIA_TYPE,
    KINDS,
    Gen,
    describe_json,
    json_timestamp,
)
from .._wire.timestamps import Timestamp, format_timestamp
from .._wire.unknown import EMPTY, Unknown, UnknownMember, merge, unknown_attr
from ._base import (
    compile_function,
    construct_lines,
    in_list,
    is_model,
    list_item_type,
    raise_invalid,
)

__all__ = ["JsonCodec", "configure_converter", "make_converter"]

T = TypeVar("T")
MEDIA_TYPE = JSON_MEDIA_TYPE

# Json.NET escapes these three beyond what orjson does (and writes all else raw UTF-8).
_JSONNET_ESCAPES = (
    (b"\xc2\x85", b"\\u0085"),
    (b"\xe2\x80\xa8", b"\\u2028"),
    (b"\xe2\x80\xa9", b"\\u2029"),
)

_OPENERS = frozenset(b"{[")
_describe = describe_json


def _unstructure_fn(cls: type) -> Callable[[Any], dict[str, Any]]:
    """Generate ``model -> dict`` in Json.NET order, each kind's rules inlined."""
    fields = json_order(cls)
    ns: dict[str, Any] = {}
    g = Gen(ns, _unstructure_hook)
    lines = ["def unstructure(o):"]
    items = []
    for i, f in enumerate(fields):
        v = f"v{i}"
        rules = KINDS[f.kind]
        lines.append(f"    {v} = o.{f.name}")
        if rules.json_refuses_null:
            lines.append(f"    if {v} is None: raise TypeError({f.wire!r})")
            lines.extend("    " + line for line in rules.json_write(f, v, g))
        else:
            lines.append(f"    if {v} is not None:")
            lines.extend("        " + line for line in rules.json_write(f, v, g))
        items.append(f"{f.wire!r}: {v}")
    lines.append("    r = {" + ", ".join(items) + "}")
    if (u := unknown_attr(cls)) is not None:
        ns["_put_back"] = _put_back
        lines.append(f"    if o.{u}.members: r = _put_back(r, o.{u})")
    lines.append("    return r")
    return compile_function("unstructure", "\n".join(lines) + "\n", ns)


def _put_back(r: dict[str, Any], unknown: Unknown) -> dict[str, Any]:
    """``r`` with the unknown members back in place, their text as it came."""
    if unknown.format != "json":
        # Validation names the members (raise_invalid asks it).
        raise TypeError(f"unknown members kept from {unknown.format}")
    return {
        k: orjson.Fragment(v.raw) if type(v) is UnknownMember else v
        for k, v in merge(list(r.items()), unknown)
    }


class _NeedRaw(Exception):
    """Unknown members met in parsed values: their text must come from the body."""


def _keep_json(d: dict[str, Any], known: frozenset[str]) -> Unknown:
    """The members of ``d`` not in ``known``, with the known member each followed.

    Their values must be :class:`msgspec.Raw` (from :func:`_raw_tree`), which keep the
    text; a parsed value raises :class:`_NeedRaw` so that the caller reads the text.
    """
    members = []
    after = None
    for k, v in d.items():
        if k in known:
            after = k
        elif type(v) is msgspec.Raw:
            members.append(UnknownMember(k, bytes(v).decode("utf-8"), after))
        else:
            raise _NeedRaw
    return Unknown("json", tuple(members))


_RAW_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_RAW_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])


def _raw_tree(data: bytes | str, cls: type, exact: bool) -> Any:
    """Parse ``data`` for ``cls`` keeping the text of every member ``cls`` lacks.

    Known members are parsed as the reference path parses them; unknown ones (at any
    depth the model describes) stay :class:`msgspec.Raw`. Only the members the model
    describes are descended into, so the work is the body's size times the model's
    depth, however deep the unknown values nest.
    """
    try:
        d = _RAW_OBJECT.decode(data)
    except msgspec.ValidationError:  # not an object: the structure hook says what it is
        return _parse(data, exact)
    descend = _descend(cls)
    out: dict[str, Any] = {}
    for k, raw in d.items():
        sub = descend.get(k)
        if sub is not None:
            read, model = sub
            out[k] = read(bytes(raw), model, exact)
        elif k in descend:
            out[k] = _parse(raw, exact)
        else:
            out[k] = raw
    return out


def _raw_list(data: bytes | str, item: type, exact: bool) -> Any:
    try:
        items = _RAW_ARRAY.decode(data)
    except msgspec.ValidationError:
        return _parse(data, exact)
    return [_raw_tree(bytes(x), item, exact) for x in items]


def _parse(data: Any, exact: bool) -> Any:
    """One value, parsed as the reference path parses it."""
    data = data if type(data) is str else bytes(data)
    return _EXACT.decode(data) if exact else orjson.loads(data)


@functools.cache
def _descend(cls: type) -> dict[str, tuple[Callable[..., Any], type] | None]:
    """Each wire member of ``cls``: how to read a nested model or model list, or None."""
    out: dict[str, tuple[Callable[..., Any], type] | None] = {}
    for f in json_order(cls):
        read = _DESCEND.get(f.kind)
        out[f.wire] = (read, f.model) if read is not None and f.model is not None else None
    return out


_DESCEND: dict[Kind, Callable[..., Any]] = {Kind.MODEL: _raw_tree, Kind.LIST: _raw_list}


def _raw_body(data: bytes | str, cls: Any, exact: bool) -> Any:
    """The body parsed for ``cls`` (a model or ``list[Model]``) by :func:`_raw_tree`."""
    item = list_item_type(cls)
    try:
        if item is not None:
            return _raw_list(data, item, exact)
        return _raw_tree(data, cls, exact)
    except RecursionError:
        raise DecodeError(_TOO_DEEP, media_type=MEDIA_TYPE) from None
    except (msgspec.DecodeError, UnicodeDecodeError, ValueError) as exc:
        raise DecodeError(f"malformed JSON: {exc}", media_type=MEDIA_TYPE) from None


_TOO_DEEP = "an unknown member nests too deeply to be kept"
#: Writes a parsed unknown value back to text: msgspec, whose depth limit is the one
#: msgspec's reading of the raw text has, so that both ways in agree on what is too deep.
_REWRITE = msgspec.json.Encoder(decimal_format="number").encode


def _raw_values(value: Any, cls: Any) -> Any:
    """Parsed ``value`` for ``cls`` with each unknown member's value written back to text
    (as orjson writes it: the original text is gone), for :func:`_keep_json`."""
    item = list_item_type(cls)
    if item is not None:
        return [_raw_values(x, item) for x in value] if type(value) is list else value
    if type(value) is not dict:
        return value  # the structure hook says what is wrong with it
    descend = _descend(cls)
    out: dict[str, Any] = {}
    for k, v in value.items():
        if k not in descend:
            try:
                out[k] = msgspec.Raw(_REWRITE(v))
            except RecursionError:  # as deep as _raw_body refuses: the same error
                raise DecodeError(_TOO_DEEP, media_type=MEDIA_TYPE) from None
        elif (sub := descend[k]) is not None:
            read, model = sub
            out[k] = _raw_values(v, list[model] if read is _raw_list else model)  # type: ignore[valid-type]
        else:
            out[k] = v
    return out


def _converter_structure_fn(cls: type) -> Callable[[Any, Any], Any]:
    """The converter's hook: :func:`_structure_fn`'s, keeping unknown members of parsed
    values as orjson writes them (their original text is gone)."""
    fn = _structure_hook(cls)

    def structure(d: Any, _type: Any = None) -> Any:
        try:
            return fn(d, _type)
        except _NeedRaw:
            return fn(_raw_values(d, cls), _type)

    return structure


def _structure_fn(cls: type) -> Callable[[Any, Any], Any]:
    """Generate ``dict -> model``: lenient on absence and extras, strict on types."""
    fields = json_order(cls)
    ns: dict[str, Any] = {"_DecodeError": DecodeError, "_MT": MEDIA_TYPE, "_describe": _describe}
    g = Gen(ns, _structure_hook)
    lines = [
        "def structure(d, _type=None):",
        "    if type(d) is not dict:",
        f"        raise _DecodeError('expected an object for {cls.__name__}, got ' + _describe(d), media_type=_MT)",
    ]
    # Json.NET writes every property, in declaration order, so the usual answer's keys
    # are exactly these, in this order: unpack its values in one step. Anything else
    # (missing, extra or reordered properties) looks each one up.
    ns["_KEYS"] = tuple(f.wire for f in fields)
    names = ", ".join(f"v{i}" for i in range(len(fields)))
    lines.append(f"    if len(d) == {len(fields)} and tuple(d) == _KEYS:")
    lines.append(f"        {names}{',' if len(fields) == 1 else ''} = d.values()")
    lines.append("    else:")
    lines.append("        g = d.get")
    for i, f in enumerate(fields):
        lines.append(f"        v{i} = g({f.wire!r})")
    assignments: list[tuple[str, str]] = []
    if (u := unknown_attr(cls)) is not None:
        # Only the slow branch can hold unknown members.
        ns.update(_KNOWN=frozenset(ns["_KEYS"]), _keep=_keep_json, _EMPTY=EMPTY)
        lines.insert(-len(fields) - 4, "    u = _EMPTY")
        lines.append("        if not _KNOWN.issuperset(d): u = _keep(d, _KNOWN)")
        assignments.append((u, "u"))
    for i, f in enumerate(fields):
        v = f"v{i}"
        w = repr(f.wire)
        if f.required:
            lines.append(f"    if {v} is None:")
            lines.append(f"        raise _DecodeError('is required', media_type=_MT, field={w})")
        lines.append(f"    if {v} is not None:")
        lines.extend("        " + line for line in KINDS[f.kind].json_read(f, v, w, g))
        assignments.append((f.name, v))
    lines.extend(construct_lines(cls, assignments, ns))
    return compile_function("structure", "\n".join(lines) + "\n", ns)


@functools.cache
def _unstructure_hook(cls: type) -> Callable[[Any], dict[str, Any]]:
    """The default rules' writer of a nested model (shared by every codec)."""
    return _unstructure_fn(cls)


@functools.cache
def _structure_hook(cls: type) -> Callable[[Any, Any], Any]:
    """The default rules' reader of a nested model (shared by every codec)."""
    return _structure_fn(cls)


# msgspec reads integers of any size; orjson reads past 64 bits as floats, which no field
# takes. Bounded to .NET's int32: anything else takes the reference path, which names the
# field in its DecodeError.
_WIRE_INT = Annotated[int, msgspec.Meta(ge=INT32_MIN, le=INT32_MAX)]


def _fast_type(f: WireField) -> Any:
    t = KINDS[f.kind].json_fast_type(f)
    return _WIRE_INT if t is int else t


@functools.cache
def _fast_decoder(cls: Any) -> Callable[[bytes], Any] | None:
    """A fast decoder of the usual answer for ``cls`` (a model or ``list[Model]``).

    It depends on ``cls`` alone, so it is generated once per class for every codec.

    msgspec parses *and* type-checks into a generated struct in C, faster than orjson
    builds the dict alone; the struct's values then go into the model as the reference
    path's would. The struct is stricter than the reference path (no unknown members,
    no enum names, required members present and not null), so what it refuses may still
    be valid: callers fall back to the reference path, which gives the answer or the
    error. A Hypothesis property pins the two paths to the same outcome.

    Returns:
        The decoder, or ``None`` when ``cls`` is not a model or a list of one, or has a
        field of a kind with no fast reading (a decimal, a nested model, a list).
    """
    item = list_item_type(cls)
    model = item if item is not None else cls
    if not is_model(model) or any(_fast_type(f) is None for f in json_order(model)):
        return None
    wire, build = _wire_struct(model)
    if item is None:
        decode_one: Callable[[bytes], Any] = msgspec.json.Decoder(wire).decode

        def decode(data: bytes) -> Any:
            return build(decode_one(data))

    else:
        decode_many = msgspec.json.Decoder(list[wire]).decode  # type: ignore[valid-type]

        def decode(data: bytes) -> Any:
            return [build(w) for w in decode_many(data)]

    return decode


@functools.cache
def _fast_keeping(cls: Any) -> Callable[[bytes], Any] | None:
    """:func:`_fast_decoder`'s reading of a body with unknown members, keeping them.

    A struct that ignores unknown members reads the known ones as the fast path does,
    and one more parse in C (each member's raw text) gives the unknown ones: a newer
    server's every answer need not take the reference path and its per-value parsing. ``None`` where there is no
    fast path, or the model keeps no unknown members.
    """
    item = list_item_type(cls)
    model = item if item is not None else cls
    if _fast_decoder(cls) is None or unknown_attr(model) is None:
        return None
    wire, build = _wire_struct(model, forbid_unknown=False)
    known = frozenset(f.wire for f in json_order(model))
    raw_object = _RAW_OBJECT.decode

    keep = _keep_json
    # What the reference path's orjson refuses anywhere in the body (a number past a
    # double, an integer past 64 bits, bad UTF-8, in a member msgspec skips or in the
    # first of two members of one name) is refused here too: the same outcome. orjson
    # only checks: the per-value parsing of the reference path is what this saves.

    if item is None:
        decode_one: Callable[[bytes], Any] = msgspec.json.Decoder(wire).decode

        def decode(data: bytes) -> Any:
            orjson.loads(data)
            return build(decode_one(data), keep(raw_object(data), known))

    else:
        decode_many = msgspec.json.Decoder(list[wire]).decode  # type: ignore[valid-type]
        raw_items = _RAW_ARRAY.decode

        def decode(data: bytes) -> Any:
            orjson.loads(data)
            items = decode_many(data)
            raws = raw_items(data)
            return [build(w, keep(raw_object(r), known)) for w, r in zip(items, raws, strict=True)]

    return decode


def _wire_struct(cls: type, *, forbid_unknown: bool = True) -> tuple[type, Callable[..., Any]]:
    """A msgspec struct of ``cls``'s wire members, and ``(struct, unknown) -> model``."""
    fields = json_order(cls)
    wire: type = msgspec.defstruct(
        f"{cls.__name__}Wire",
        [
            (f.name, _fast_type(f)) if f.required else (f.name, _fast_type(f) | None, None)
            for f in sorted(fields, key=lambda f: not f.required)  # required ones first
        ],
        kw_only=True,
        rename={f.name: f.wire for f in fields},
        forbid_unknown_fields=forbid_unknown,
        gc=False,
    )
    ns: dict[str, Any] = {"_astuple": msgspec.structs.astuple, "_EMPTY": EMPTY}
    g = Gen(ns, _structure_hook)
    index = {f.name: i for i, f in enumerate(fields)}
    unpacked = "".join(f"v{index[f.name]}, " for f in msgspec.structs.fields(wire))
    lines = ["def build(w, u=_EMPTY):", f"    {unpacked}= _astuple(w)"]
    assignments: list[tuple[str, str]] = []
    for i, f in enumerate(fields):
        v = f"v{i}"
        fast = KINDS[f.kind].json_fast_read(f, v, g)
        if fast:
            lines.append(f"    if {v} is not None:")
            lines.extend("        " + line for line in fast)
        assignments.append((f.name, v))
    if (u := unknown_attr(cls)) is not None:
        assignments.append((u, "u"))
    lines.extend(construct_lines(cls, assignments, ns))
    return wire, compile_function("build", "\n".join(lines) + "\n", ns)


@functools.cache
def _exact_numbers(cls: Any) -> bool:
    """Whether reading ``cls`` (a model or ``list[Model]``) needs numbers as ``Decimal``."""
    item = list_item_type(cls)
    model = item if item is not None else cls
    return is_model(model) and any(KINDS[f.kind].json_exact(f) for f in json_order(model))


#: Reads every JSON number with a fraction or exponent as an exact ``Decimal``.
_EXACT = msgspec.json.Decoder(float_hook=Decimal)


def _default(value: object) -> Any:
    """orjson's hook for what it cannot write: a decimal, as Json.NET writes it."""
    if type(value) is Decimal:
        return orjson.Fragment(decimal_json_text(value).encode("ascii"))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def configure_converter(converter: cattrs.BaseConverter) -> None:
    """Teach ``converter`` Json.NET's rules for shopapi's models.

    The rules:

    * Property order is Json.NET's: a class's own properties before its base class's
      (``ExternalKey`` ... ``Note``, then ``Id`` ... ``ChannelId``).
    * Names are the wire names from the field metadata (``PlatformKindEnumValue``).
    * Enums are integers. An unknown integer is kept as an ``int`` and written back
      as-is; an unknown *name* (read from XML) has no integer and is refused.
      Known names are read too, case-insensitively, as Json.NET does.
    * Dates use .NET's round-trip form with up to 7 fractional digits, trailing zeros
      trimmed; ``Z`` for UTC, an offset for local times, no suffix for unspecified.
    * ``None`` is written as ``null``. On reading, ``null`` and a missing property both
      mean ``None``; a wrong type is a :class:`~shopapi.DecodeError` naming the property.
    * A property the model does not declare is kept (in its ``unknown`` field, a
      :class:`~shopapi.Unknown`): its value's text exactly as it came (``12.50``, a nested
      object, whitespace and all), after the known property it followed, and written back
      there, so a read-modify-write never drops a field the help pages do not show. This
      holds in nested models and list items too. Only a body read by
      :meth:`JsonCodec.decode` has that text; from values already parsed (a converter's
      ``structure``) the value is written back as msgspec writes it. Members kept from
      XML cannot be written as JSON: a :class:`~shopapi.ValidationError` names them
      (:func:`~shopapi.drop_unknown` drops them on purpose). Json.NET's three extra
      escapes apply to them as to everything written. A value nested too deeply for
      msgspec to keep (about a thousand levels) is a :class:`~shopapi.DecodeError`.
    * Decimals are numbers with their scale (``12.50``) and no exponent, and an integral
      one gets ``.0`` (``100.0``), as Json.NET writes them; a negative zero loses its
      sign. They are read exactly (every number of a model with a decimal is parsed as
      a :class:`~decimal.Decimal`, never a float), a trailing zero that does not fit
      dropped as .NET drops it; a value .NET's decimal cannot hold (past 96 bits, more
      than 28 places) is refused both ways, naming the field. A JSON string is no decimal.
    * A nested model is an object (``null`` when absent), written in its own Json.NET
      order. A list is an array, read into a tuple; only a list of strings may hold
      ``null``. An error inside one names its path (``BillTo.City``, ``Rows[2].Id``).
    * Strings go out raw as UTF-8, with Json.NET's escapes (``\\u2028``, ``\\u2029`` and
      ``\\u0085`` on top of the usual ones); that part lives in :class:`JsonCodec`.

    The model hooks inline each kind's rules (:mod:`shopapi._wire.kinds`) for speed; they
    do not call back into the converter per field, and nested models use the default
    rules' hooks.
    """
    converter.register_unstructure_hook(datetime, format_timestamp)
    converter.register_structure_hook(Timestamp, lambda v, _: json_timestamp(v))
    converter.register_unstructure_hook_factory(is_model, _unstructure_fn)
    converter.register_structure_hook_factory(is_model, _converter_structure_fn)


def make_converter() -> cattrs.Converter:
    """A fresh cattrs converter configured by :func:`configure_converter`."""
    converter = cattrs.Converter()
    configure_converter(converter)
    return converter


_DEFAULT_CONVERTER = make_converter()


def _position(exc: orjson.JSONDecodeError) -> str:
    return f"line {exc.lineno}, column {exc.colno}"


def _to_text_if_bom(data: bytes) -> bytes | str:
    if data[:3] == _stdlib_codecs.BOM_UTF8:
        return data[3:]
    if data[:4] in (_stdlib_codecs.BOM_UTF32_LE, _stdlib_codecs.BOM_UTF32_BE):
        return data.decode("utf-32")
    if data[:2] in (_stdlib_codecs.BOM_UTF16_LE, _stdlib_codecs.BOM_UTF16_BE):
        return data.decode("utf-16")
    return data


class JsonCodec:
    """``application/json`` as Json.NET writes it.

    orjson writes the bytes. An answer of the usual shape is read by msgspec, which
    parses and type-checks it in C; anything else (and every error) goes through orjson
    and the converter's rules, the reference reading. Tests pin both paths to the same
    value or the same error.

    Args:
        pretty: Indent like the API's help page (Json.NET ``Formatting.Indented``).
            The default is compact, for the wire.
        converter: A cattrs converter already set up by :func:`configure_converter`;
            a shared default is used when omitted.
    """

    media_type = MEDIA_TYPE
    content_type = "application/json; charset=utf-8"

    def __init__(self, *, pretty: bool = False, converter: cattrs.BaseConverter | None = None):
        self.pretty = pretty
        self._converter = converter if converter is not None else _DEFAULT_CONVERTER
        self._option = orjson.OPT_INDENT_2 if pretty else 0
        self._unstructure: dict[type, Callable[[Any], Any]] = {}
        self._structure: dict[Any, Callable[[Any, Any], Any]] = {}
        # The msgspec fast path knows only the default rules: a custom converter's
        # hooks would be bypassed, so with one every answer takes the reference path.
        self._fast = converter is None

    def __repr__(self) -> str:
        return f"JsonCodec(pretty={self.pretty})"

    def encode(self, obj: Any) -> bytes:
        """Render ``obj`` as Json.NET would.

        Raises:
            ValidationError: A field cannot be written as JSON (wrong type, an enum name
                with no known integer, a lone surrogate).
        """
        try:
            fn = self._unstructure[type(obj)]
        except KeyError:
            fn = self._unstructure[type(obj)] = self._converter.get_unstructure_hook(type(obj))
        try:
            data = orjson.dumps(fn(obj), default=_default, option=self._option)
        except Exception as exc:
            raise_invalid(obj, "json", exc)
            raise  # unreachable: raise_invalid always raises
        # Each escape's UTF-8 starts with \xc2 or \xe2: a one-byte search rules them
        # out in most bodies, several times faster than looking for the three sequences.
        if not data.isascii() and (b"\xc2" in data or b"\xe2" in data):
            for raw, escaped in _JSONNET_ESCAPES:
                if raw in data:
                    data = data.replace(raw, escaped)
        return data

    def decode(self, data: bytes, cls: type[T]) -> T:
        """Read ``data`` as ``cls`` (a model class or ``list[Model]``).

        Raises:
            DecodeError: Empty or malformed JSON, the wrong shape, or a field of the
                wrong type; the error names the field or the position.
        """
        # Json.NET's answers start with "{" or "["; anything else (a BOM, whitespace,
        # nothing at all) takes the careful path.
        if not data or data[0] not in _OPENERS:
            if not data or not data.strip():
                raise DecodeError("empty body", media_type=MEDIA_TYPE)
            try:
                data = _to_text_if_bom(data)  # type: ignore[assignment]
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"not {exc.encoding} after its byte order mark: {exc.reason}",
                    media_type=MEDIA_TYPE,
                ) from None
        elif (fast := self._fast_decoder(cls)) is not None:
            try:
                return fast(data)  # type: ignore[no-any-return]
            except msgspec.ValidationError as exc:
                # A newer server's usual answer: members the model does not declare.
                hashable: Any = cls  # it has a fast decoder, so it is a model class
                if "unknown field" in str(exc) and (keep := _fast_keeping(hashable)) is not None:
                    try:
                        return keep(data)  # type: ignore[no-any-return]
                    except (msgspec.DecodeError, DecodeError, ValueError, RecursionError):
                        pass  # the reference path reads it, or says why not
            except (msgspec.DecodeError, DecodeError, ValueError, RecursionError):
                # Not the usual answer, or not valid at all (msgspec's errors, a bad
                # date, bad UTF-8, deep nesting): the reference path below reads it,
                # or raises the DecodeError that says why.
                pass
        if self._exact(cls):
            try:
                value = _EXACT.decode(data)
            except (msgspec.DecodeError, UnicodeDecodeError, ValueError, RecursionError) as exc:
                raise DecodeError(f"malformed JSON: {exc}", media_type=MEDIA_TYPE) from None
            return self._read(value, data, cls, exact=True)
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise DecodeError(
                f"malformed JSON: {exc.msg}", media_type=MEDIA_TYPE, position=_position(exc)
            ) from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise DecodeError(f"malformed JSON: {exc}", media_type=MEDIA_TYPE) from None
        return self._read(value, data, cls, exact=False)

    def _read(self, value: Any, data: bytes | str, cls: type[T], *, exact: bool) -> T:
        """Structure parsed ``value``; if it holds unknown members, parse ``data`` again
        keeping their text (only then: the usual answer is parsed once)."""
        try:
            return self._structure_value(value, cls)
        except _NeedRaw:
            return self._structure_value(_raw_body(data, cls, exact), cls)

    @staticmethod
    def _exact(cls: Any) -> bool:
        try:
            return _exact_numbers(cls)
        except TypeError:  # unhashable, so no model
            return False

    def _fast_decoder(self, cls: Any) -> Callable[[bytes], Any] | None:
        if not self._fast:
            return None
        try:
            return _fast_decoder(cls)
        except TypeError:  # unhashable, so no model: the reference path says what it is
            return None

    def structure(self, value: Any, cls: type[T]) -> T:
        """Build ``cls`` from already-parsed JSON (a dict, or a list for ``list[X]``).

        Unknown members are kept as orjson writes their parsed values (the original
        text is gone by then); :meth:`decode` keeps the text as it came.
        """
        try:
            return self._structure_value(value, cls)
        except _NeedRaw:
            return self._structure_value(_raw_values(value, cls), cls)

    def _structure_value(self, value: Any, cls: type[T]) -> T:
        hook = self._structure.get(cls)
        if hook is not None:  # a model class seen before
            known: T = hook(value, cls)
            return known
        item = list_item_type(cls)
        if item is not None:
            if type(value) is not list:
                raise DecodeError(
                    f"expected an array of {item.__name__}, got {_describe(value)}",
                    media_type=MEDIA_TYPE,
                )
            fn = self._structure_hook(item)
            out = []
            for index, element in enumerate(value):
                try:
                    out.append(fn(element, item))
                except DecodeError as exc:
                    raise in_list(exc, index) from None
            return out  # type: ignore[return-value]
        result: T = self._structure_hook(cls)(value, cls)
        return result

    def _structure_hook(self, cls: Any) -> Callable[[Any, Any], Any]:
        try:
            return self._structure[cls]
        except KeyError:
            if not is_model(cls):
                raise TypeError(f"{cls!r} is not a shopapi model") from None
            # The default rules' own hook lets _NeedRaw through, for decode() to read
            # the unknown members' text from the body; a converter's re-serializes.
            fn = self._structure[cls] = (
                _structure_hook(cls) if self._fast else self._converter.get_structure_hook(cls)
            )
            return fn
