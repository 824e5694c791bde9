"""The command line's input lines, read strictly, and its failure records (pure, no I/O).

A line is one body of the command's endpoint (``MessageConversationChanges`` for
``conversations update``, the default here) in the API's JSON shape. What a person types
is read strictly, because a lenient reader turns a typo into data loss: an unknown key
(``CustomerEmial``, or ``note`` in lower case) would be ignored and the field saved as
null. So an unknown key (in a nested object too: ``BillToAddress.Citty``), a duplicate
key or a value of the wrong type fails that line alone, with a did-you-mean suggestion
for a near miss, and nothing is sent for it. The body is the codec's ``decode`` of the
line's bytes, so a decimal keeps its scale (``1.10``) as it does from the server.

A line may also be one XmlSerializer document (what ``export --format xml`` writes, one
per line), read with the XML codec as strictly: an unknown or repeated element fails the
line. Its failure record keeps it as text.

``allow_unknown`` (``--allow-unknown-members``) is for exports from a server newer than
this client. The codec's ``decode`` of the line's bytes keeps each unknown member's exact
text (``12.50`` stays ``12.50``, a nested object keeps its spacing) in place, so that it
is sent back unchanged. That text belongs to the line's format: a JSON line's unknown
members go out only with ``--format json`` and an XML line's only with ``--format xml``
(the client refuses the other before sending, naming them). The default stays a refusal,
because a misspelled member would otherwise be sent and ignored by the server.

A failure record is the original item (its members as given, in their order) with the
error under :data:`FAILURE_KEY`, which the reader accepts and ignores: a failures file is
valid input for the next run.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import attrs
import orjson

from .._exceptions import DecodeError
from .._resources.message_conversations import MessageConversationChanges
from .._wire.fields import WireField, wire_fields
from .._wire.kinds import KINDS, XML_MEDIA_TYPE
from .._wire.unknown import Unknown, unknown_attr
from ..codecs import JsonCodec, XmlCodec
from ..codecs.xml import parse_document

__all__ = [
    "ALLOW_UNKNOWN_OPTION",
    "FAILURE_KEY",
    "InputItem",
    "failure_record",
    "read_item",
]

#: The member of a failure record that holds the error; the reader ignores it.
FAILURE_KEY = "$failure"
#: The option that lets unknown members through, named in the error that refuses them.
ALLOW_UNKNOWN_OPTION = "--allow-unknown-members"

_MEDIA_TYPE = "application/json"
_BOM = b"\xef\xbb\xbf"
_CODEC = JsonCodec()
_XML = XmlCodec()


@attrs.frozen
class _Schema:
    """The wire names of one body model, for the strict reader."""

    names: tuple[str, ...]
    known: frozenset[str]
    by_lower: dict[str, str]
    #: The members XmlSerializer leaves out when null (strings, classes, lists).
    omitted_when_null: frozenset[str]
    #: The fields that hold models (a nested model, a list of them).
    nests: tuple[WireField, ...]


@functools.cache
def _schema(model: type) -> _Schema:
    fields = wire_fields(model)
    names = tuple(f.wire for f in fields)
    omitted = frozenset(f.wire for f in fields if KINDS[f.kind].reference)
    nests = tuple(f for f in fields if KINDS[f.kind].nests(f) is not None)
    lower = {name.lower(): name for name in names}
    return _Schema(names, frozenset(names), lower, omitted, nests)


@attrs.frozen
class InputItem:
    """One input line, read.

    Attributes:
        changes: The item to send (an instance of the command's body model), with the
            line's unknown members when ``allow_unknown`` let them through.
        members: The line's JSON object as given (for the failures file); ``None`` for
            an XML line (its record keeps it as text).
        given: The wire names the line gives a value, null included: a JSON line's
            keys; an XML line's elements, plus the members XmlSerializer leaves out
            when null (an absent string is its null).
    """

    changes: Any
    members: dict[str, Any] | None
    given: AbstractSet[str]


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def suggestion(key: str, model: type = MessageConversationChanges) -> str | None:
    """The wire name of ``model`` that ``key`` most likely meant: same letters in
    another case, or a near miss (``CustomerEmial`` for ``CustomerEmail``)."""
    schema = _schema(model)
    same = schema.by_lower.get(key.lower())
    if same is not None:
        return same
    close = difflib.get_close_matches(key, schema.names, n=1, cutoff=0.75)
    if close:
        return close[0]
    close = difflib.get_close_matches(key.lower(), list(schema.by_lower), n=1, cutoff=0.75)
    return schema.by_lower[close[0]] if close else None


def _unknown_error(unknown: list[str], model: type, media_type: str = _MEDIA_TYPE) -> DecodeError:
    return _unknown_members_error([("", member, model) for member in unknown], media_type)


def _unknown_members_error(found: list[tuple[str, str, type]], media_type: str) -> DecodeError:
    """The one refusal of unknown members, at the top level (``where`` is empty) or nested
    (``where`` is the member's path, ``BillToAddress`` or ``OrderRows[2]``), each with a
    did-you-mean from its own model."""
    parts = []
    for where, member, model in found:
        near = suggestion(member, model)
        at = f"{where}." if where else ""
        parts.append(f"'{at}{member}'" + (f" (did you mean '{at}{near}'?)" if near else ""))
    noun = "member" if len(found) == 1 else "members"
    where, member, _ = found[0]
    return DecodeError(
        f"unknown {noun} {', '.join(parts)}; nothing was sent for this line "
        f"({ALLOW_UNKNOWN_OPTION} lets unknown members through)",
        media_type=media_type,
        field=f"{where}.{member}" if where else member,
    )


@functools.lru_cache(maxsize=256)
def _quoted(key: str) -> bytes:
    return b'"' + key.encode() + b'"'


def parse_object(raw: bytes, model: type = MessageConversationChanges) -> dict[str, Any]:
    """The line's JSON object, refusing malformed JSON and duplicate keys.

    Raises:
        DecodeError: Malformed JSON, not an object, or a key given twice.
    """
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(
            f"malformed JSON: {exc.msg}",
            media_type=_MEDIA_TYPE,
            position=f"line 1, column {exc.colno}",
        ) from None
    if type(value) is not dict:
        what = "an array" if type(value) is list else type(value).__name__
        raise DecodeError(
            f"expected an object for {model.__name__}, got {what}",
            media_type=_MEDIA_TYPE,
        )
    if b"\\" not in raw and all(raw.count(_quoted(key)) == 1 for key in value):
        # Each key's quoted text appears once, and no escape could spell a key otherwise:
        # no key is given twice (a quoted key inside a string value needs an escape).
        return value
    try:
        # orjson keeps the last of two equal keys; the standard library tells them apart.
        json.loads(raw, object_pairs_hook=_no_duplicates)
    except _Duplicate as exc:
        raise DecodeError(
            "given twice; nothing was sent for this line", media_type=_MEDIA_TYPE, field=exc.key
        ) from None
    return value


def read_item(
    raw: bytes, *, allow_unknown: bool = False, model: type = MessageConversationChanges
) -> InputItem:
    """Read one input line strictly.

    Args:
        raw: The line (surrounding whitespace allowed).
        model: The body model the line holds.
        allow_unknown: Keep unknown members, as they came, to send them back,
            instead of failing the line.

    Raises:
        DecodeError: Malformed JSON or XML, a duplicate key or element, an unknown one
            (unless ``allow_unknown``), a value of the wrong type or a missing required
            member; it names the member.
    """
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    if raw.lstrip()[:1] == b"<":
        return _read_xml(raw, allow_unknown, model)
    members = parse_object(raw, model)
    known = _schema(model).known
    unknown = [k for k in members if k not in known and k != FAILURE_KEY]
    if unknown and not allow_unknown:
        raise _unknown_error(unknown, model)
    if FAILURE_KEY in members and not members.keys() - {FAILURE_KEY}:
        raise DecodeError(
            "a failure record without an item: the line it stands for was not an object "
            f"(its text is in {FAILURE_KEY}.text); replace this record with the corrected "
            "item",
            media_type=_MEDIA_TYPE,
            field=FAILURE_KEY,
        )
    # The codec's decode of the bytes, not structure of the parsed values: structure
    # would rewrite an unknown member's text, and a decimal parsed as a float has lost
    # its scale (and is refused).
    changes: Any = _CODEC.decode(raw, model)
    if _schema(model).nests and not allow_unknown:
        _refuse_nested_unknown(changes, _MEDIA_TYPE)
    if unknown or FAILURE_KEY in members:
        changes = _keeping(changes, unknown, _MEDIA_TYPE)
    return InputItem(changes, members, members.keys())


def _nested_unknown(obj: Any, path: str) -> list[tuple[str, str, type]]:
    """``(path, member, model)`` of each unknown member kept below the top level."""
    out: list[tuple[str, str, type]] = []
    cls: type = type(obj)
    for f in _schema(cls).nests:
        value = getattr(obj, f.name)
        items = value if isinstance(value, tuple) else (value,)
        for index, item in enumerate(items):
            if not attrs.has(type(item)):
                continue
            where = f"{path}{f.wire}" + (f"[{index}]" if isinstance(value, tuple) else "")
            name = unknown_attr(type(item))
            if name is not None:
                out.extend((where, m, type(item)) for m in getattr(item, name).names())
            out.extend(_nested_unknown(item, where + "."))
    return out


def _refuse_nested_unknown(changes: Any, media_type: str) -> None:
    """A nested object's unknown member is refused as a top-level one is: a typo there
    would be sent and ignored as well."""
    found = _nested_unknown(changes, "")
    if found:
        raise _unknown_members_error(found, media_type)


def _keeping(changes: Any, unknown: list[str], media_type: str) -> Any:
    """``changes`` without the failure record's member (never sent), refusing a model
    that keeps no unknown members (they would be lost without a word)."""
    name = unknown_attr(type(changes))
    if name is None:
        if not unknown:
            return changes  # the failure record's member was not kept
        raise DecodeError(
            f"unknown {', '.join(map(repr, unknown))}: {type(changes).__name__} keeps no "
            "unknown members; nothing was sent for this line",
            media_type=media_type,
            field=unknown[0],
        )
    kept: Unknown = getattr(changes, name)
    if FAILURE_KEY not in kept.names():
        return changes
    rest = tuple(m for m in kept if m.name != FAILURE_KEY)
    return attrs.evolve(changes, **{name: Unknown(kept.format if rest else None, rest)})


def _read_xml(raw: bytes, allow_unknown: bool, model: type) -> InputItem:
    """An XML line, as strict as a JSON one (the codec itself keeps the last of two
    equal elements, and any unknown one)."""
    schema = _schema(model)
    tags: list[str] = [el.tag for el in parse_document(raw) if isinstance(el.tag, str)]
    seen: set[str] = set()
    for tag in tags:
        if tag in seen:
            raise DecodeError(
                "given twice; nothing was sent for this line", media_type=XML_MEDIA_TYPE, field=tag
            )
        seen.add(tag)
    unknown = [tag for tag in tags if tag not in schema.known]
    if unknown and not allow_unknown:
        raise _unknown_error(unknown, model, XML_MEDIA_TYPE)
    changes: Any = _XML.decode(raw, model)
    if schema.nests and not allow_unknown:
        _refuse_nested_unknown(changes, XML_MEDIA_TYPE)
    if unknown:
        changes = _keeping(changes, unknown, XML_MEDIA_TYPE)
    return InputItem(changes, None, seen | schema.omitted_when_null)


def failure_record(
    raw: bytes, members: Mapping[str, Any] | None, failure: Mapping[str, Any]
) -> bytes:
    """The failures-file line for an item: its members as given, then ``failure``
    under :data:`FAILURE_KEY` (replacing one from an earlier run).

    An XML line is kept as it is, followed by ``failure`` in a comment
    (``<!--$failure {...}-->``), which the reader ignores as it ignores the member: it is
    still one document, so the failures file stays the next run's input.

    Args:
        raw: The input line, kept as ``text`` when it is not a JSON object.
        members: The line's JSON object, when it is one (``None``: not parsed yet).
        failure: What went wrong (line, error, message ...).
    """
    if members is None and raw.removeprefix(_BOM).lstrip()[:1] == b"<":
        return _xml_failure_record(raw, failure)
    if members is None:
        try:
            members = parse_object(raw)
        except DecodeError:
            text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            return orjson.dumps({FAILURE_KEY: {**failure, "text": text}}) + b"\n"
    record = {k: v for k, v in members.items() if k != FAILURE_KEY}
    record[FAILURE_KEY] = dict(failure)
    earlier = members.get(FAILURE_KEY)
    if not record.keys() - {FAILURE_KEY} and isinstance(earlier, dict) and "text" in earlier:
        record[FAILURE_KEY]["text"] = earlier["text"]  # still not fixed: keep its text
    return orjson.dumps(record) + b"\n"


#: How an XML line's failure record starts its comment.
_XML_FAILURE = b"<!--" + FAILURE_KEY.encode() + b" "


def _xml_failure_record(raw: bytes, failure: Mapping[str, Any]) -> bytes:
    line = raw.rstrip(b"\r\n")
    earlier = line.rfind(_XML_FAILURE)
    if earlier != -1 and line.endswith(b"-->"):
        line = line[:earlier]  # replaced, not added to
    # A comment cannot hold "--"; the JSON escape reads back as the same text.
    note = orjson.dumps(dict(failure)).replace(b"--", b"-\\u002d")
    return line + _XML_FAILURE + note + b"-->\n"
