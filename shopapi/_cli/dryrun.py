"""``--dry-run`` of a writing command: every line read and checked, nothing sent.

It reads each line as the real run would (the strict reader, the missing-members rule
of an update), checks what the client checks before sending (every field's
constraints, an insert's id being 0), and prints what would be sent: the first few
bodies, or, with ``--against EXPORT``, each line's differences from the item the export
holds. No client is made, so no request can leave. Pure apart from the streams.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

import orjson

from .._exceptions import DecodeError, FieldError, ShopApiError, ValidationError
from .._wire.fields import wire_fields
from .._wire.unknown import drop_unknown
from .._wire.validation import field_errors
from ..codecs import Codec, JsonCodec
from .commands import Command
from .common import SOME_FAILED, UsageError, encode_line
from .input import FAILURE_KEY, InputItem, parse_object
from .terminal import printable

__all__ = ["check_item", "differences", "dry_run", "identity_members"]

_JSON = JsonCodec()


def check_item(command: Command, item: InputItem, fmt: str) -> None:
    """What the client would refuse before sending, raised the way it raises it.

    Raises:
        ValidationError: A field breaks a constraint, or an insert's id is not 0.
    """
    body = item.changes
    errors = field_errors(body, fmt="xml" if fmt == "xml" else "json")
    insert_id = command.endpoint.insert_id
    if insert_id is not None and getattr(body, insert_id) != 0:
        wire = {f.name: f.wire for f in wire_fields(type(body))}[insert_id]
        errors.append(FieldError(wire, "must be 0: an insert gets its id from the server"))
    if errors:
        raise ValidationError(errors, type_name=type(body).__name__)


def identity_members(command: Command) -> tuple[str, ...]:
    """The wire names that identify an item in an export: the body's key fields (or
    its ``Id`` when the endpoint has no key)."""
    body = command.endpoint.body
    assert body is not None
    wires = {f.name: f.wire for f in wire_fields(body)}
    fields = [key.field for key in command.endpoint.keys] or (["id"] if "id" in wires else [])
    return tuple(wires[f] for f in fields)


def differences(sent: dict[str, Any], exported: dict[str, Any]) -> list[str]:
    """``Member: old -> new`` for each member both hold with another value."""
    out = []
    for name, value in sent.items():
        if name in exported and exported[name] != value:
            old = orjson.dumps(exported[name]).decode()
            out.append(f"{name}: {old} -> {orjson.dumps(value).decode()}")
    return out


def _load_export(path: str, members: Sequence[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    items: dict[tuple[Any, ...], dict[str, Any]] = {}
    for number, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = parse_object(raw)
        except DecodeError as exc:
            raise UsageError(f"--against {path}: line {number}: {exc}") from None
        items[tuple(obj.get(m) for m in members)] = obj
    return items


def _where(command: Command, item: InputItem, options: dict[str, Any]) -> str:
    parts = []
    for p in command.path:
        value = getattr(item.changes, p.field) if p.field is not None else options[p.dest]
        parts.append(f"{p.label} {value}")
    return f" ({', '.join(parts)})" if parts else ""


def dry_run(
    command: Command,
    read: Any,
    source: IO[bytes],
    *,
    codec: Codec,
    fmt: str,
    options: dict[str, Any],
    against: str | None,
    show: int,
    stdout: IO[bytes],
    stderr: IO[str],
) -> int:
    """Check every line of ``source``; print what would be sent; send nothing.

    Args:
        command: The writing command.
        read: The line reader (``read(raw) -> InputItem``, raising ``DecodeError``).
        source: The input.
        codec: The wire codec, to print the bodies as they would go out.
        fmt: ``json`` or ``xml`` (what the format cannot carry is checked too).
        options: The path parameters given as options, by their Python names.
        against: An export to compare each line with, or ``None``.
        show: How many bodies to print without ``against``.
        stdout: Where the bodies or the differences go (data).
        stderr: Where the invalid lines and the summary go.

    Returns:
        0 when every line is valid, else 1.
    """
    members = identity_members(command) if against is not None else ()
    exported = _load_export(against, members) if against is not None else {}
    valid = invalid = changed = unchanged = missing = 0
    for number, raw in enumerate(source, 1):
        if not raw.strip():
            continue
        try:
            item: InputItem = read(raw)
            check_item(command, item, fmt)
        except ShopApiError as exc:
            invalid += 1
            stderr.write(printable(f"invalid: line {number}: {type(exc).__name__}: {exc}") + "\n")
            continue
        valid += 1
        where = _where(command, item, options)
        if against is None:
            if valid <= show:
                stdout.write(encode_line(item.changes, codec) + b"\n")
            continue
        # An export is JSON: an XML line's kept elements have no JSON text to compare.
        body = item.changes if item.members is not None else drop_unknown(item.changes)
        sent = orjson.loads(_JSON.encode(body))
        key = tuple(sent.get(m) for m in members)
        base = exported.get(key)
        if base is None:
            missing += 1
            stdout.write(printable(f"line {number}{where}: not in the export").encode() + b"\n")
            continue
        diff = differences(sent, {k: v for k, v in base.items() if k != FAILURE_KEY})
        if diff:
            changed += 1
            text = f"line {number}{where}: " + "; ".join(diff)
            stdout.write(printable(text).encode() + b"\n")
        else:
            unchanged += 1
    stdout.flush()
    summary = f"dry run: {valid} valid, {invalid} invalid"
    if against is not None:
        summary += f" ({changed} differ from the export, {unchanged} unchanged"
        summary += f", {missing} not in it)" if missing else ")"
    elif valid > show:
        summary += f" (the first {show} shown)"
    stderr.write(summary + "; nothing was sent\n")
    stderr.flush()
    return SOME_FAILED if invalid else 0
