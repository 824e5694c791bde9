"""shopapi.helpgen: the resource modules are what the help pages' description and the
hand-kept spec/resources.json make, and the hand-written models agree with it."""

from __future__ import annotations

import copy
import json
import types
from pathlib import Path
from typing import Any

import attrs
import pytest

from shopapi import helpgen
from shopapi._resources import RESOURCES
from shopapi._resources.orders import Parcel, ParcelChanges
from shopapi._wire.fields import WireField, json_order, xml_order

ROOT = Path(__file__).resolve().parents[1]
API: dict[str, Any] = json.loads((ROOT / "spec/api.json").read_text(encoding="utf-8"))
CONFIG: dict[str, Any] = json.loads((ROOT / "spec/resources.json").read_text(encoding="utf-8"))
HAND = [r for r in CONFIG["resources"] if r.get("hand_written")]


def test_the_checked_in_modules_are_what_the_generator_writes() -> None:
    written = helpgen.generate(API, CONFIG)
    assert written, "spec/resources.json generates no module"
    for name, text in written.items():
        path = ROOT / "shopapi/_resources" / name
        assert helpgen.same_module(path.read_text(encoding="utf-8"), text), (
            f"{path}: run python -m shopapi.helpgen"
        )


def test_the_check_holds_without_ruff_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test extras do not install ruff, so there the generator writes unformatted
    source; the checked-in (formatted) modules are still current, and a changed name is
    still stale."""
    monkeypatch.setattr(helpgen, "_format", lambda source: source)
    written = helpgen.generate(API, CONFIG)
    for name, text in written.items():
        current = (ROOT / "shopapi/_resources" / name).read_text(encoding="utf-8")
        assert current != text  # unformatted: the layout differs
        assert helpgen.same_module(current, text), name
    current = (ROOT / "shopapi/_resources/orders.py").read_text(encoding="utf-8")
    assert not helpgen.same_module(current.replace("Parcel", "Parce1"), written["orders.py"])
    assert not helpgen.same_module("def (", written["orders.py"])


def test_check_reports_a_stale_module_and_writing_makes_it_current(tmp_path: Path) -> None:
    args = ["--api", str(ROOT / "spec/api.json"), "--resources", str(ROOT / "spec/resources.json")]
    args += ["--output", str(tmp_path)]
    assert helpgen.main([*args, "--check"]) == 1
    assert list(tmp_path.iterdir()) == []
    assert helpgen.main(args) == 0
    assert helpgen.main([*args, "--check"]) == 0
    (tmp_path / "orders.py").write_text("# edited by hand\n", encoding="utf-8")
    assert helpgen.main([*args, "--check"]) == 1


def _facts(fields: tuple[WireField, ...]) -> list[tuple[object, ...]]:
    return [(f.name, f.wire, f.kind, f.nullable, f.required, f.max_length) for f in fields]


@pytest.mark.parametrize("resource", HAND, ids=lambda r: str(r["name"]))
def test_the_hand_written_models_are_what_the_generator_describes(
    resource: dict[str, Any],
) -> None:
    """Field for field, in Json.NET's and XmlSerializer's order: the generator's module
    for the hand-written resource, run, against the hand-written classes."""
    source = helpgen.generate_module(API, CONFIG, resource)
    module = types.ModuleType(f"shopapi._resources._generated_{resource['module']}")
    module.__package__ = "shopapi._resources"
    exec(compile(source, module.__name__, "exec"), module.__dict__)
    hand = __import__(f"shopapi._resources.{resource['module']}", fromlist=["RESOURCE"])
    models = [n for n in module.__all__ if n not in ("RESOURCE", resource["class"])]
    assert models
    for name in models:
        generated, written = getattr(module, name), getattr(hand, name)
        assert _facts(json_order(generated)) == _facts(json_order(written)), name
        assert _facts(xml_order(generated)) == _facts(xml_order(written)), name


def test_without_its_override_the_is_read_discrepancy_shows() -> None:
    """The page's "Required" IsRead differs from the model: only the override (with its
    reason) reconciles them, so the comparison above can fail."""
    config = copy.deepcopy(CONFIG)
    del config["overrides"]["MessageBasicInfo.IsRead"]
    levels = helpgen.model_specs(API, config, "MessageBasicInfo")
    assert ("is_read", "IsRead", "bool", 'boolean("IsRead", required=True)') in levels[0]
    levels = helpgen.model_specs(API, CONFIG, "MessageBasicInfo")
    assert ("is_read", "IsRead", "bool | None", 'boolean("IsRead")') in levels[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"set": {"required": False}}, "says why"),
        ({"set": {"required": False}, "reason": " "}, "says why"),
    ],
)
def test_an_override_must_say_why(change: dict[str, Any], message: str) -> None:
    config = copy.deepcopy(CONFIG)
    config["overrides"]["MessageBasicInfo.Body"] = change
    with pytest.raises(helpgen.GenerateError, match=message):
        helpgen.generate_module(API, config, HAND[0])


def test_an_override_must_name_a_property_the_pages_show() -> None:
    config = copy.deepcopy(CONFIG)
    config["overrides"]["MessageBasicInfo.Invented"] = {"set": {}, "reason": "none"}
    with pytest.raises(helpgen.GenerateError, match="no property 'Invented'"):
        helpgen.generate_module(API, config, HAND[0])


def test_a_field_whose_type_no_page_shows_is_left_out_and_named() -> None:
    names = attrs.fields_dict(Parcel)
    assert "ship_from" not in names
    assert "params" not in names
    assert "shipping_labels" in names  # ShippingLabel's table is shown
    doc = " ".join((Parcel.__doc__ or "").split())
    assert "ShipFrom (ContactInfoAddress)" in doc
    doc = " ".join((ParcelChanges.__doc__ or "").split())
    assert "Partial: the page is cut after CarrierAccountId" in doc


def test_an_endpoint_no_page_describes_is_refused() -> None:
    resource = copy.deepcopy(HAND[1])
    resource["endpoints"].append({"http": "GET v1/Invented", "name": "x", "collection": "x"})
    with pytest.raises(helpgen.GenerateError, match="GET v1/Invented: no page describes it"):
        helpgen.generate_module(API, CONFIG, resource)


@pytest.mark.parametrize(
    ("wire", "python"),
    [("ShopGroupId", "shop_group_id"), ("EAN", "ean"), ("EMail", "e_mail"), ("Id", "id")],
)
def test_snake(wire: str, python: str) -> None:
    assert helpgen.snake(wire) == python


def test_xml_documentation_markup_becomes_plain_text() -> None:
    """A page's ``<list><item>`` markup (the shop product page has it) reads as a run of
    items in the docstrings and ``--help``, not as tags."""
    assert (
        helpgen.plain_text('view: <list type="bullet"><item>A (x)</item>\n<item>B</item></list>')
        == "view: A (x); B"
    )
    summaries = [e.summary for r in RESOURCES for e in r.endpoints]
    assert [s for s in summaries if "<" in s or ">" in s] == []
