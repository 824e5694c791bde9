"""The C# generator and the harness's refusal to run without Mono. Pure Python: these run
in the default suite, so the generator is checked even where .NET is not installed."""

from __future__ import annotations

import enum
import re
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from conformance import codegen, harness
from shopapi._resources import RESOURCES
from shopapi._wire.fields import Kind, boolean, enum_field, integer, json_order, string, timestamp


def test_every_public_model_is_generated() -> None:
    """A model a resource's endpoints send or receive gets its C# class (and its conformance
    tests, which are parametrized over the same tuple) without any change here."""
    modules = [sys.modules[resource.methods.__module__] for resource in RESOURCES]
    public = [getattr(module, n) for module in modules for n in module.__all__]
    public_models = {m.__name__ for m in public if isinstance(m, type) and attrs.has(m)}
    assert {c.__name__ for c in codegen.MODEL_TYPES} == public_models
    source = codegen.generate()
    for cls in codegen.model_chain():
        assert f"public class {codegen.csharp_class_name(cls)}" in source


def test_properties_follow_the_wire_metadata() -> None:
    """Every wire field becomes a property with its type, nullability and constraints."""
    source = codegen.generate()
    for cls in codegen.MODEL_TYPES:
        for f in json_order(cls):
            plain, nullable = codegen.CSHARP_TYPES[f.kind]
            # A coded integer's IntEnum is no .NET enum: its property is an int.
            named = f.enum is not None and f.kind is Kind.ENUM
            cs = f.enum.__name__ if named else (nullable if f.nullable else plain)  # type: ignore[union-attr]
            if f.kind is Kind.MODEL:
                cs = f.model.__name__ if f.model is not None else None
            elif f.kind is Kind.LIST:
                assert f.item is not None
                cs = f"List<{codegen.csharp_type(f.item)}>"
            assert re.search(rf"public {re.escape(str(cs))} {f.wire} \{{ get; set; \}}", source)
    assert "[MaxLength(50)]\n        public string CustomerName" in source
    assert "[Required]\n        public int Id" in source
    assert "public bool IsRead { get; set; }" in source
    assert "public DateTime? LastActivityDate" in source
    assert "public class MessageConversation : ConversationDetails" in source
    assert "public int? ShipmentStatusId { get; set; }" in source
    assert "public int Type { get; set; }" in source  # ProductBasicInfo's, an int
    assert "enum ShipmentStatus" not in source


def test_enums_carry_the_servers_extra_members() -> None:
    """The server knows values the client does not: the client's members plus the table."""
    source = codegen.generate()
    assert "FlowAi = 0," in source
    assert "Instagram = 7," in source
    assert "Employee = 1," in source


def test_a_new_model_shape_slots_in() -> None:
    """A later model (its own enum, a bool?, inheritance) generates with no generator change."""

    class Color(enum.IntEnum):
        Red = 3

    @attrs.frozen(kw_only=True)
    class Base:
        id: int = integer("Id", nullable=False, required=True)

    @attrs.frozen(kw_only=True)
    class Derived(Base):
        flag: bool | None = boolean("Flag", nullable=True)
        when: object = timestamp("When", nullable=False)
        name: str | None = string("Name", 10)
        color: object = enum_field("Color", Color)

    source = codegen.generate([Derived], namespace="X")
    assert "public enum Color\n    {\n        Red = 3,\n    }" in source
    assert "public class Derived : Base" in source
    for line in ("public bool? Flag", "public DateTime When", "public Color Color"):
        assert line in source
    assert source.index("public class Base") < source.index("public class Derived")


def test_every_kind_has_a_csharp_type() -> None:
    """The kind table is complete: a kind without a row would fail here, not in mcs."""
    assert set(codegen.CSHARP_TYPES) == set(Kind)


def test_a_stale_enum_table_is_an_error() -> None:
    """A server member that contradicts the client's name for the same value is refused."""

    class PlatformKindEnum(enum.IntEnum):
        Other = 1  # the table says 1 is WhatsApp

    with pytest.raises(ValueError, match=r"PlatformKindEnum\.1"):
        codegen.enum_members(PlatformKindEnum)


def test_missing_mono_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Mono the suite fails with how to install it; it never skips."""
    import shutil

    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(harness.ConformanceSetupError, match=r"apt-get install -y mono-mcs"):
        harness.build()


def test_the_dotnet_processes_run_in_a_fixed_zone() -> None:
    """Local dates are deterministic only with TZ set for every .NET process."""
    assert harness.dotnet_env({"A": "b"})["TZ"] == "Europe/Amsterdam"
    assert harness.dotnet_env({"A": "b"})["A"] == "b"


class _FakeProcess:
    """Stands in for ``mono Server.exe``: prints one line, then waits for stdin to close."""

    def __init__(self, line: bytes) -> None:
        import io
        import os

        read, write = os.pipe()
        os.write(write, line + b"\n")
        os.close(write)
        self.stdout = os.fdopen(read, "rb")
        self.stdin = io.BytesIO()
        self.killed = False

    def wait(self, timeout: float | None = None) -> int:
        return 0

    def kill(self) -> None:  # pragma: no cover - wait() never times out here
        self.killed = True


def test_server_start_retries_in_a_fresh_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """SelfHost on Mono sometimes fails to open (NullReferenceException) and keeps the port:
    the harness starts a fresh process on a fresh port, and reports why it had to."""
    lines = [b"FAILED: System.NullReferenceException: ...", b"LISTENING"]
    started: list[list[str]] = []

    def popen(args: list[str], **_: Any) -> _FakeProcess:
        started.append(args)
        return _FakeProcess(lines.pop(0))

    monkeypatch.setattr("conformance.harness.subprocess.Popen", popen)
    built = harness.Built(tmp_path / "Tool.exe", tmp_path / "Server.exe", "")
    server = harness.DotnetServer(built, username="u", password="p")
    server.start(timeout=5)
    assert len(started) == 2
    assert server.failed_starts == ["FAILED: System.NullReferenceException: ..."]
    assert server.base_url == f"http://127.0.0.1:{started[1][-1]}"
    assert started[1][0] == "mono"
    assert started[1][2].isdigit()  # the port alone: the password travels in the environment
    server.close()


def test_server_start_gives_up_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """After its attempts, a failing start is a ``ConformanceSetupError`` with the reasons."""
    monkeypatch.setattr(
        "conformance.harness.subprocess.Popen", lambda *a, **k: _FakeProcess(b"FAILED: no")
    )
    built = harness.Built(tmp_path / "Tool.exe", tmp_path / "Server.exe", "")
    with pytest.raises(harness.ConformanceSetupError, match="3 attempts"):
        harness.DotnetServer(built, username="u", password="p", attempts=3).start(timeout=5)


def test_nested_and_list_types_come_first_in_dependency_order() -> None:
    """Any model types generate: the classes their fields nest (a model, a list's model
    member) come before them, bases before derived classes, each once."""
    from conformance.probes import ProbeAddress, ProbeOrder, ProbeOrderChanges, ProbeOrderRow

    chain = codegen.model_chain([ProbeOrderChanges])
    assert chain == [ProbeAddress, ProbeOrderRow, ProbeOrder, ProbeOrderChanges]
    source = codegen.generate([ProbeOrderChanges], namespace="X")
    for line in (
        "public decimal ExchangeRate { get; set; }",
        "public decimal? Discount { get; set; }",
        "public ProbeAddress BillToAddress { get; set; }",
        "public List<ProbeOrderRow> OrderRows { get; set; }",
        "public List<int> Children { get; set; }",
        "public List<string> ShipperTrackingUrl { get; set; }",
        "public List<decimal> Prices { get; set; }",
        "public List<bool> Flags { get; set; }",
        "public List<DateTime> Dates { get; set; }",
        "public class ProbeOrderChanges : ProbeOrder",
    ):
        assert line in source
    assert source.count("public class ProbeAddress") == 1
    assert "using System.Collections.Generic;" in source


def test_the_conformance_build_covers_the_resources_and_the_probes() -> None:
    from conformance.probes import PROBE_TYPES

    assert codegen.CONFORMANCE_TYPES == codegen.MODEL_TYPES + PROBE_TYPES


def _extended_members(source: str, name: str) -> list[str]:
    """The properties ``Extended.<name>`` declares, in order (its own class body only)."""
    start = re.search(rf"^    public class {name}\b", source, re.MULTILINE)
    assert start is not None, name
    body = source[start.end() :].split("\n    }\n", 1)[0]
    return re.findall(r"public \S+ (\w+) \{ get; set; \}", body)


@pytest.mark.parametrize("own", [0, 1, 2, 3, 4])
def test_an_extended_class_adds_every_extra_member_once(own: int) -> None:
    """Whatever a class's own member count (ShopGroup has one: its start and middle
    coincide), its extended class declares and sets every extra member once, with its own
    members in their order among them."""
    fields = {f"f{i}": integer(f"F{i}") for i in range(own)}
    cls = attrs.make_class("Shape", fields, frozen=True, kw_only=True)
    source = codegen.generate_extended([cls])
    expected = [f"AddedShape{suffix}" for _, suffix, _ in codegen.EXTRA_MEMBERS]
    members = _extended_members(source, "Shape")
    assert sorted(m for m in members if m.startswith("Added")) == sorted(expected)
    assert [m for m in members if not m.startswith("Added")] == [f"F{i}" for i in range(own)]
    for member in expected:
        assert source.count(f"            {member} = ") == 1
    assert members[0] == "AddedShapeText"
    assert members[-1] == "AddedShapeNumbers"


def test_every_extended_model_class_has_every_extra_member() -> None:
    """The conformance suite expects each class of a model's chain to add all of
    :data:`~conformance.codegen.EXTRA_MEMBERS`; the generated classes do, the shop groups'
    one-member classes included."""
    source = codegen.generate_extended(codegen.CONFORMANCE_TYPES)
    for cls in codegen.model_chain(codegen.CONFORMANCE_TYPES):
        name = codegen.csharp_class_name(cls)
        added = [m for m in _extended_members(source, name) if m.startswith("Added")]
        assert sorted(added) == sorted(f"Added{name}{s}" for _, s, _ in codegen.EXTRA_MEMBERS)
