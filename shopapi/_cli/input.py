"""The command line's input lines, read strictly, and its failure records (pure, no I/O).

A line is one body of the command's endpoint (``MessageConversationChanges`` for
``conversations update``, the default here) in the API's JSON shape. What a person types
is read strictly, because a lenient reader turns a typo into data loss: an unknown key
(``CustomerEmial``, or ``note`` in lower case) would be ignored and the field saved as
null. So an unknown key, a duplicate key or a value of the wrong type fails that line
alone, with a did-you-mean suggestion for a near miss, and nothing is sent for it.

``allow_unknown`` (``--allow-unknown-members``) is for exports from a server newer than
this client. The models cannot keep members they do not know yet, so for now it *drops*
them: the line is sent without them and the caller is told which were dropped (the
server may reset such a field to its default). When the models keep unknown members,
this option will send them unchanged.

A failure record is the original item (its members as given, in their order) with the
error under :data:`FAILURE_KEY`, which the reader accepts and ignores: a failures file is
valid input for the next run.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Mapping
from typing import Any

import attrs
import orjson

from .._exceptions import DecodeError
from .._resources.message_conversations import MessageConversationChanges
from .._wire.fields import wire_fields
from ..codecs import JsonCodec

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


@attrs.frozen
class _Schema:
    """The wire names of one body model, for the strict reader."""

    names: tuple[str, ...]
    known: frozenset[str]
    by_lower: dict[str, str]


@functools.cache
def _schema(model: type) -> _Schema:
    names = tuple(f.wire for f in wire_fields(model))
    return _Schema(names, frozenset(names), {name.lower(): name for name in names})


@attrs.frozen
class InputItem:
    """One input line, read.

    Attributes:
        changes: The item to send (an instance of the command's body model).
        members: The line's JSON object as given (for the failures file).
        dropped: Unknown members left out (only with ``allow_unknown``).
    """

    changes: Any
    members: dict[str, Any]
    dropped: tuple[str, ...] = ()


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


def _unknown_error(unknown: list[str], model: type) -> DecodeError:
    parts = []
    for key in unknown:
        near = suggestion(key, model)
        parts.append(f"{key!r}" + (f" (did you mean {near!r}?)" if near else ""))
    noun = "member" if len(unknown) == 1 else "members"
    return DecodeError(
        f"unknown {noun} {', '.join(parts)}; nothing was sent for this line "
        f"({ALLOW_UNKNOWN_OPTION} lets unknown members through)",
        media_type=_MEDIA_TYPE,
        field=unknown[0],
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
        allow_unknown: Drop unknown members instead of failing the line (see the module
            docstring for why they are dropped rather than sent, for now).

    Raises:
        DecodeError: Malformed JSON, a duplicate key, an unknown key (unless
            ``allow_unknown``), a value of the wrong type or a missing required member;
            it names the member.
    """
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
    fields = {k: v for k, v in members.items() if k in known}
    changes: Any = _CODEC.structure(fields, model)
    return InputItem(changes, members, tuple(unknown))


def failure_record(
    raw: bytes, members: Mapping[str, Any] | None, failure: Mapping[str, Any]
) -> bytes:
    """The failures-file line for an item: its members as given, then ``failure``
    under :data:`FAILURE_KEY` (replacing one from an earlier run).

    Args:
        raw: The input line, kept as ``text`` when it is not a JSON object.
        members: The line's JSON object, when it is one (``None``: not parsed yet).
        failure: What went wrong (line, error, message ...).
    """
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
