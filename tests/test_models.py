"""The models: shaped like the .NET types, named so the API docs predict the names.

Users build update bodies by hand, evolve conversations they read, and rely on the
field names being the snake_case of the documented wire names.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, TypedDict

import attrs
import pytest
from hypothesis import given, settings

from shopapi import (
    ConfigurationError,
    JsonCodec,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
    PlatformKindEnum,
    Timestamp,
)
from shopapi._resources.message_conversations import DETAIL_FIELDS
from shopapi._wire.fields import Kind, json_order, wire_fields, xml_order
from shopapi._wire.unknown import unknown_attr
from tests.conftest import SEED_DIR
from tests.strategies import conversations

MODELS = (MessageConversationBasicInfo, MessageConversation, MessageConversationChanges)
BASE_WIRE = (
    "Id",
    "CreationDate",
    "LastActivityDate",
    "FinishedDate",
    "CustomerId",
    "CustomerName",
    "Rating",
    "ConversationType",
    "OrderId",
    "OrderCode",
    "TicketId",
    "TicketCode",
    "ShopId",
    "EmployeeId",
    "PlatformKindEnumValue",
    "ChannelId",
)
DETAIL_WIRE = (
    "ExternalKey",
    "CustomerEmail",
    "CustomerPhone",
    "UserAgent",
    "HostName",
    "PathName",
    "Platform",
    "Url",
    "Realm",
    "Note",
)


class _Required(TypedDict):
    """The fields every model requires, as keyword arguments."""

    id: int
    shop_id: int
    platform_kind_enum_value: PlatformKindEnum


REQUIRED: _Required = {"id": 1, "shop_id": 2, "platform_kind_enum_value": PlatformKindEnum.FlowAi}


def snake_case(wire: str) -> str:
    """The mechanical conversion a user applies to a documented wire name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", wire).lower()


def help_page_rows(type_name: str) -> dict[str, tuple[str, str]]:
    """The help page's table for ``type_name``: wire name -> (type, additional info)."""
    (page,) = SEED_DIR.glob("*.txt")
    text = page.read_text(encoding="utf-8")
    header = f"{type_name}\nNameDescriptionTypeAdditional information\n"
    table = text[text.index(header) + len(header) :]
    table = re.split(r"\n\n(?:Request|Response) Formats", table, maxsplit=1)[0]
    cells = table.split("\n\n")
    return {cells[i]: (cells[i + 2], cells[i + 3]) for i in range(0, len(cells), 4)}


def full_conversation() -> MessageConversation:
    """A conversation with every field set, ticks included."""
    when = Timestamp.parse("2026-01-11T16:13:16.7386644+01:00")
    values: dict[str, Any] = {}
    for f in wire_fields(MessageConversation):
        if f.kind is Kind.STR:
            values[f.name] = f"{f.wire} value"
        elif f.kind is Kind.INT:
            values[f.name] = len(f.wire)
        elif f.kind is Kind.TIMESTAMP:
            values[f.name] = when
        else:
            values[f.name] = PlatformKindEnum.FlowAi
    return MessageConversation(**values)


@pytest.mark.parametrize("cls", MODELS)
def test_construction_is_keyword_only(cls: type) -> None:
    """Positional arguments would silently bind to the wrong one of 26 fields."""
    with pytest.raises(TypeError, match="positional"):
        cls(1, 2, PlatformKindEnum.FlowAi)
    instance = cls(**REQUIRED)
    assert (instance.id, instance.shop_id) == (1, 2)


@pytest.mark.parametrize("cls", MODELS)
def test_required_fields_have_no_default(cls: type) -> None:
    """Forgetting ``shop_id`` fails at construction, not with a 400 later."""
    for name in REQUIRED:
        partial = {k: v for k, v in REQUIRED.items() if k != name}
        with pytest.raises(TypeError, match=name):
            cls(**partial)


@pytest.mark.parametrize("cls", MODELS)
def test_optional_fields_default_to_none(cls: type) -> None:
    """Everything the API does not require starts unset."""
    instance = cls(**REQUIRED)
    for f in wire_fields(cls):
        if f.name not in REQUIRED:
            assert getattr(instance, f.name) is None, f.wire


@pytest.mark.parametrize("cls", MODELS)
def test_instances_are_frozen(cls: type) -> None:
    """A conversation shared between tasks cannot be changed under another's feet."""
    instance = cls(**REQUIRED)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        instance.id = 5
    assert instance.id == 1


def test_evolve_makes_a_changed_copy() -> None:
    """``attrs.evolve`` is the documented way to change a field."""
    original = full_conversation()
    changed = attrs.evolve(original, note="called back", rating=None)
    assert changed.note == "called back"
    assert changed.rating is None
    assert original.note == "Note value"
    assert type(changed) is MessageConversation
    assert attrs.evolve(changed, note="Note value", rating=6) == original


@pytest.mark.parametrize("cls", MODELS)
def test_python_names_are_snake_case_of_wire_names(cls: type) -> None:
    """Anyone holding the API docs can guess every attribute name."""
    fields = wire_fields(cls)
    assert fields, cls
    for f in fields:
        assert f.name == snake_case(f.wire)
    # Every attribute is a wire field, but for the one that keeps unknown members.
    assert {f.name for f in fields} | {"unknown"} == {a.name for a in attrs.fields(cls)}
    assert unknown_attr(cls) == "unknown"


def test_snake_case_examples() -> None:
    """The conversion the test relies on, checked on the names the DESIGN spells out."""
    assert snake_case("PlatformKindEnumValue") == "platform_kind_enum_value"
    assert snake_case("Id") == "id"
    assert snake_case("ShopId") == "shop_id"


def test_derived_types_are_basic_info_plus_ten_fields() -> None:
    """Mirror the .NET inheritance: a full conversation *is* a basic info."""
    assert [f.wire for f in wire_fields(MessageConversationBasicInfo)] == list(BASE_WIRE)
    for cls in (MessageConversation, MessageConversationChanges):
        assert issubclass(cls, MessageConversationBasicInfo)
        assert [f.wire for f in wire_fields(cls)] == [*BASE_WIRE, *DETAIL_WIRE]
    assert not issubclass(MessageConversation, MessageConversationChanges)
    assert not issubclass(MessageConversationChanges, MessageConversation)
    assert isinstance(full_conversation(), MessageConversationBasicInfo)


@pytest.mark.parametrize(
    ("sample", "cls"),
    [("request_json", MessageConversationChanges), ("response_json", MessageConversation)],
)
def test_json_order_matches_the_json_samples(
    seed_samples: dict[str, str], sample: str, cls: type
) -> None:
    """Json.NET writes the derived class's own properties first."""
    keys = list(json.loads(seed_samples[sample]))
    assert [f.wire for f in json_order(cls)] == keys
    assert keys == [*DETAIL_WIRE, *BASE_WIRE]


@pytest.mark.parametrize(
    ("sample", "cls"),
    [("request_xml", MessageConversationChanges), ("response_xml", MessageConversation)],
)
def test_xml_order_matches_the_xml_samples(
    seed_samples: dict[str, str], sample: str, cls: type
) -> None:
    """XmlSerializer writes the base class's members first."""
    root = ET.fromstring(seed_samples[sample])
    assert root.tag == cls.__name__
    assert [f.wire for f in xml_order(cls)] == [child.tag for child in root]


def test_basic_info_order_is_the_same_in_both_formats() -> None:
    """Without a derived class there is nothing for the serializers to disagree on."""
    assert json_order(MessageConversationBasicInfo) == xml_order(MessageConversationBasicInfo)


@pytest.mark.parametrize(
    ("type_name", "cls"),
    [
        ("MessageConversationChanges", MessageConversationChanges),
        ("MessageConversation", MessageConversation),
    ],
)
def test_wire_metadata_matches_the_help_page(type_name: str, cls: type) -> None:
    """Max lengths, required flags and types are the documented ones, field by field."""
    rows = help_page_rows(type_name)
    fields = {f.wire: f for f in wire_fields(cls)}
    assert list(rows) == [f.wire for f in json_order(cls)]
    kinds = {"string": Kind.STR, "integer": Kind.INT, "date": Kind.TIMESTAMP}
    for wire, (type_text, info) in rows.items():
        f = fields[wire]
        assert f.kind is kinds.get(type_text, Kind.ENUM), wire
        assert f.required is (info == "Required"), wire
        limit = re.fullmatch(r"Max length: (\d+)", info)
        expected = None if limit is None or int(limit[1]) >= 2**31 - 1 else int(limit[1])
        assert f.max_length == expected, wire


def test_nullability_follows_the_design() -> None:
    """Only ``Id``, ``ShopId``, ``CreationDate`` and the enum are non-nullable .NET types."""
    non_nullable = {f.wire for f in wire_fields(MessageConversation) if not f.nullable}
    assert non_nullable == {"Id", "ShopId", "CreationDate", "PlatformKindEnumValue"}


def test_to_changes_is_the_read_modify_write() -> None:
    """``conversation.to_changes(note=...)`` writes everything else back unchanged."""
    conversation = full_conversation()
    changes = conversation.to_changes(note="called back")
    assert type(changes) is MessageConversationChanges
    assert changes.note == "called back"
    for f in wire_fields(MessageConversation):
        if f.name != "note":
            assert getattr(changes, f.name) == getattr(conversation, f.name), f.wire
    assert isinstance(changes.creation_date, Timestamp)
    assert changes.creation_date.sub_microsecond_ticks == 4
    assert conversation.note == "Note value"
    assert conversation.to_changes() == MessageConversationChanges.from_conversation(conversation)


def test_to_changes_refuses_unknown_fields() -> None:
    """A misspelt field name must fail loudly rather than be dropped."""
    with pytest.raises(TypeError, match="notes"):
        full_conversation().to_changes(notes="typo")  # type: ignore[call-arg]


def test_from_conversation_refuses_a_basic_info() -> None:
    """A list item lacks the ten detail fields; building a full body from it sent them as
    null and cleared CustomerEmail on every conversation the README's job updated."""
    info = MessageConversationBasicInfo(**REQUIRED, customer_name="Ann", rating=5)
    with pytest.raises(ConfigurationError, match="from_basic_info") as caught:
        MessageConversationChanges.from_conversation(info, note="x")  # type: ignore[arg-type]
    assert "customer_email" in str(caught.value)
    assert "clear_missing_details=True" in str(caught.value)


def test_from_basic_info_needs_every_detail_field_or_an_explicit_clear() -> None:
    info = MessageConversationBasicInfo(**REQUIRED, customer_name="Ann", rating=5)
    with pytest.raises(ConfigurationError) as caught:
        MessageConversationChanges.from_basic_info(info, note="x")  # type: ignore[call-overload]
    message = str(caught.value)
    assert all(name in message for name in DETAIL_FIELDS if name != "note")
    assert "note," not in message
    cleared = MessageConversationChanges.from_basic_info(info, clear_missing_details=True, note="x")
    assert (cleared.id, cleared.shop_id, cleared.customer_name, cleared.rating) == (1, 2, "Ann", 5)
    assert cleared.note == "x"
    assert cleared.customer_email is None
    details: dict[str, Any] = {name: f"kept {name}" for name in DETAIL_FIELDS}
    given = MessageConversationChanges.from_basic_info(info, **details)
    assert all(getattr(given, name) == f"kept {name}" for name in DETAIL_FIELDS)
    assert given.customer_name == "Ann"


def test_from_basic_info_is_checked_by_mypy(tmp_path: Path) -> None:
    """The unsafe call is visible to mypy: neither every detail field nor an explicit
    clear is a type error; the two safe calls type-check."""
    source = tmp_path / "use.py"
    source.write_text(
        "from shopapi import MessageConversation, MessageConversationBasicInfo\n"
        "from shopapi import MessageConversationChanges as C\n"
        "def f(b: MessageConversationBasicInfo, full: MessageConversation) -> None:\n"
        "    C.from_basic_info(b, clear_missing_details=True, note='x')\n"
        "    C.from_basic_info(b, external_key=None, customer_email='a@b.c',\n"
        "        customer_phone=None, user_agent=None, host_name=None, path_name=None,\n"
        "        platform=None, url=None, realm=None, note='x')\n"
        "    C.from_conversation(full, note='x')\n"
        "    C.from_basic_info(b, note='x')  # line 9: unsafe\n"
        "    C.from_conversation(b, note='x')  # line 10: unsafe\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert {line.split(":")[1] for line in errors} == {"9", "10"}, result.stdout


@settings(max_examples=200, deadline=None)
@given(conversations("json"))
def test_read_modify_write_preserves_the_wire_form(conversation: MessageConversation) -> None:
    """For any conversation, writing it back sends exactly the fields that were read."""
    codec = JsonCodec()
    sent = json.loads(codec.encode(conversation.to_changes()))
    read = json.loads(codec.encode(conversation))
    assert sent == read
