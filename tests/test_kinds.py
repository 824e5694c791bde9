"""The field kinds: one table, complete, and the new kinds (decimal, nested model, lists).

The byte strings here are what Json.NET 6.0.8 and XmlSerializer wrote on Mono for the
same values (the conformance suite checks thousands more against the live serializers).
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import codegen
from conformance.probes import (
    ProbeAddress,
    ProbeColor,
    ProbeOrder,
    ProbeOrderChanges,
    ProbeOrderRow,
    ProbeStatus,
)
from shopapi import ConfigurationError, DecodeError, JsonCodec, ValidationError, XmlCodec, validate
from shopapi._wire.decimals import decimal_json_text, decimal_problem, decimal_text
from shopapi._wire.fields import Kind, list_field, model_field
from shopapi._wire.kinds import KINDS
from shopapi._wire.validation import field_errors, is_valid
from tests import strategies
from tests.conformance import neutral
from tests.conformance import strategies as client_strategies

JSON = JsonCodec()
XML = XmlCodec()
HEAD = (
    '<ProbeOrder xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
)
ROOT = Path(__file__).resolve().parents[1]


def order(**kwargs: Any) -> ProbeOrder:
    values: dict[str, Any] = {"id": 1, "exchange_rate": Decimal("1.0"), "color": ProbeColor.Red}
    values.update(kwargs)
    return ProbeOrder(**values)


def json_of(o: Any) -> str:
    return JSON.encode(o).decode()


def xml_of(o: Any) -> str:
    return XML.encode(o).decode()


# -- the tables --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        KINDS,
        codegen.CSHARP_TYPES,
        strategies.VALUES,
        strategies.BAD_VALUES,
        neutral.NEUTRAL_STRATEGIES,
        neutral.DECODED_CHECKS,
        neutral.READ_CHECKS,
        client_strategies.CLIENT_STRATEGIES,
    ],
    ids=[
        "kinds",
        "csharp",
        "values",
        "bad_values",
        "neutral",
        "decoded_checks",
        "read_checks",
        "client_values",
    ],
)
def test_every_kind_has_a_row_in_every_table(table: Any) -> None:
    """A new kind cannot be forgotten: each table keyed by kind covers them all."""
    assert set(table) == set(Kind)


def test_every_kind_without_a_csharp_type_is_named_by_the_field() -> None:
    named = {kind for kind, (plain, _) in codegen.CSHARP_TYPES.items() if plain is None}
    assert named == set(codegen._NAMED_TYPES)


def test_each_entry_is_its_own_kind() -> None:
    assert all(rules.kind is kind for kind, rules in KINDS.items())


def test_no_chain_over_kind_is_left() -> None:
    """The codecs, validation, the C# generator and the test strategies dispatch through
    the tables: none compares a field's kind with ``is Kind.`` in an if/elif chain."""
    files = [
        "shopapi/codecs/json.py",
        "shopapi/codecs/xml.py",
        "shopapi/_wire/validation.py",
        "conformance/codegen.py",
        "tests/strategies.py",
        "tests/conformance/strategies.py",
        "tests/conformance/neutral.py",
    ]
    for name in files:
        tree = ast.parse((ROOT / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and node.orelse and isinstance(node.orelse[0], ast.If):
                test = ast.unparse(node.test)
                assert ".kind is Kind." not in test, f"{name}:{node.lineno}: {test}"


def test_the_wire_layer_does_not_import_the_codecs() -> None:
    """``_wire`` is below ``codecs``: the cycle through ``compile_function`` is gone."""
    for path in (ROOT / "shopapi" / "_wire").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("codecs"), path.name
                assert "codecs" not in (node.module or "").split("."), path.name


# -- decimal ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "xml", "json"),
    [
        ("12.50", "12.50", "12.50"),
        ("0", "0", "0.0"),
        ("100", "100", "100.0"),
        ("1E+2", "100", "100.0"),
        ("-1.5", "-1.5", "-1.5"),
        ("-0.000", "0.000", "0.000"),
        ("0.0000000000000000000000000001", "0.0000000000000000000000000001", None),
        ("79228162514264337593543950335", "79228162514264337593543950335", None),
        ("-79228162514264337593543950335", "-79228162514264337593543950335", None),
        ("1234567.0000000", "1234567.0000000", "1234567.0000000"),
        ("10000000000", "10000000000", "10000000000.0"),
    ],
)
def test_decimal_text_is_what_the_serializers_write(value: str, xml: str, json: str | None) -> None:
    """XmlConvert.ToString keeps the scale and writes no exponent and no negative zero;
    Json.NET writes the same and adds ``.0`` when there is no decimal point."""
    d = Decimal(value)
    assert decimal_text(d) == xml
    assert decimal_json_text(d) == (
        json if json is not None else xml + ("" if "." in xml else ".0")
    )
    assert f"<ExchangeRate>{xml}</ExchangeRate>" in xml_of(order(exchange_rate=d))
    assert f'"ExchangeRate":{decimal_json_text(d)},' in json_of(order(exchange_rate=d))


def test_decimal_keeps_its_scale_both_ways_and_never_goes_through_float() -> None:
    """``12.50`` reads as ``Decimal("12.50")``; 28 digits a float cannot hold survive."""
    body = b'{"Id":1,"ExchangeRate":12.50,"Discount":0.1234567890123456789012345678,"Color":0}'
    read = JSON.decode(body, ProbeOrder)
    assert str(read.exchange_rate) == "12.50"
    assert str(read.discount) == "0.1234567890123456789012345678"
    assert b'"Discount":0.1234567890123456789012345678,' in JSON.encode(read)
    xml_body = HEAD + "<Id>1</Id><ExchangeRate>12.50</ExchangeRate><Color>Red</Color>"
    xml_read = XML.decode((xml_body + "</ProbeOrder>").encode(), ProbeOrder)
    assert str(xml_read.exchange_rate) == "12.50"
    assert "<ExchangeRate>12.50</ExchangeRate>" in xml_of(xml_read)


def test_json_integral_decimal_reads_with_the_scale_json_net_holds() -> None:
    """Json.NET reads ``100.0`` as 100.0 and ``1e2`` as 100; a trailing zero that does not
    fit is dropped, as .NET drops it (``79228162514264337593543950335.0``)."""
    for text, held in [("100.0", "100.0"), ("1e2", "100"), ("1.5E+2", "150"), ("-0.0", "0.0")]:
        got = JSON.decode(b'{"Id":1,"ExchangeRate":%s,"Color":0}' % text.encode(), ProbeOrder)
        assert str(got.exchange_rate) == held
    big = b'{"Id":1,"ExchangeRate":79228162514264337593543950335.0,"Color":0}'
    assert str(JSON.decode(big, ProbeOrder).exchange_rate) == "79228162514264337593543950335"


@pytest.mark.parametrize(
    "text",
    [
        "79228162514264337593543950336",
        "0.00000000000000000000000000001",
        "1.23456789012345678901234567890123",
        "1e29",
    ],
)
def test_a_decimal_dotnet_cannot_hold_is_a_decode_error_naming_the_field(text: str) -> None:
    """Json.NET refuses a coefficient past 96 bits and rounds a scale past 28; no server can
    have sent either, so both are refused, in both formats."""
    with pytest.raises(DecodeError) as json_error:
        JSON.decode(b'{"Id":1,"ExchangeRate":%s,"Color":0}' % text.encode(), ProbeOrder)
    assert json_error.value.field == "ExchangeRate"
    if "e" not in text:
        body = HEAD + f"<Id>1</Id><ExchangeRate>{text}</ExchangeRate><Color>Red</Color>"
        body += "</ProbeOrder>"
        with pytest.raises(DecodeError) as xml_error:
            XML.decode(body.encode(), ProbeOrder)
        assert xml_error.value.field == "ExchangeRate"


@pytest.mark.parametrize(
    ("text", "ok"),
    [(" 1.50 ", "1.50"), ("+1.5", "1.5"), (".5", "0.5"), ("5.", "5"), ("-0", "0")],
)
def test_xml_reads_decimals_as_xmlconvert_does(text: str, ok: str) -> None:
    body = HEAD + f"<Id>1</Id><ExchangeRate>{text}</ExchangeRate><Color>Red</Color></ProbeOrder>"
    assert str(XML.decode(body.encode(), ProbeOrder).exchange_rate) == ok


@pytest.mark.parametrize("text", ["1e2", "1,5", "NaN", "", "0x10", "1.2.3"])
def test_xml_refuses_what_xmlconvert_refuses(text: str) -> None:
    """XmlConvert.ToDecimal takes no exponent (Mono: "Input string was not in a correct
    format")."""
    body = HEAD + f"<Id>1</Id><ExchangeRate>{text}</ExchangeRate><Color>Red</Color></ProbeOrder>"
    with pytest.raises(DecodeError) as error:
        XML.decode(body.encode(), ProbeOrder)
    assert error.value.field == "ExchangeRate"


@pytest.mark.parametrize("body", [b'"1.50"', b"true", b"[1]", b"{}"])
def test_json_decimal_must_be_a_number(body: bytes) -> None:
    with pytest.raises(DecodeError, match="expected a number or null") as error:
        JSON.decode(b'{"Id":1,"ExchangeRate":%s,"Color":0}' % body, ProbeOrder)
    assert error.value.field == "ExchangeRate"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("NaN"), "no NaN or infinity"),
        (Decimal("-Infinity"), "no NaN or infinity"),
        (Decimal("1E+29"), "beyond the range"),
        (Decimal("1E-29"), "at most 28"),
        (1.5, "must be a Decimal, not float"),
        (2, "must be a Decimal, not int"),
    ],
)
def test_validation_refuses_what_dotnet_decimal_cannot_hold(value: object, message: str) -> None:
    o = order(discount=value)
    [error] = field_errors(o)
    assert error.field == "Discount"
    assert message in error.message
    assert not is_valid(o)
    for codec in (JSON, XML):
        with pytest.raises(ValidationError, match="Discount"):
            codec.encode(o)


def test_decimal_problem_accepts_the_extremes() -> None:
    for text in ["79228162514264337593543950335", "7.9228162514264337593543950335", "1E-28"]:
        assert decimal_problem(Decimal(text)) is None
        assert decimal_problem(Decimal("-" + text)) is None


# -- nested models ---------------------------------------------------------------------------


def test_nested_model_on_the_wire() -> None:
    """JSON writes the nested object (null when absent); XmlSerializer writes its members
    inside an element named after the field, and leaves a null one out."""
    o = order(bill_to_address=ProbeAddress(city="A", credit_limit=Decimal("1.10")))
    assert '"BillToAddress":{"City":"A","ZipCode":null,"CreditLimit":1.10},' in json_of(o)
    assert (
        '<BillToAddress><City>A</City><ZipCode xsi:nil="true" />'
        "<CreditLimit>1.10</CreditLimit></BillToAddress>"
    ) in xml_of(o)
    assert '"BillToAddress":null,' in json_of(order())
    assert "BillToAddress" not in xml_of(order())
    for codec in (JSON, XML):
        assert codec.decode(codec.encode(o), ProbeOrder) == o


def test_an_empty_nested_model_is_an_empty_element() -> None:
    """A nested model with every member left out is ``<Field />`` (and not ``None``)."""
    o = ProbeOrderRow(id=1, quantity=Decimal(0), delivery_address=ProbeAddress())
    assert '<DeliveryAddress><ZipCode xsi:nil="true" />' in xml_of(o)
    body = (
        '<ProbeOrderRow xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Id>1</Id>'
        "<Quantity>0</Quantity><DeliveryAddress /></ProbeOrderRow>"
    )
    assert XML.decode(body.encode(), ProbeOrderRow).delivery_address == ProbeAddress()


def test_nested_decode_errors_name_the_path() -> None:
    body = b'{"Id":1,"ExchangeRate":1,"Color":0,"BillToAddress":{"ZipCode":"x"}}'
    with pytest.raises(DecodeError) as error:
        JSON.decode(body, ProbeOrder)
    assert error.value.field == "BillToAddress.ZipCode"
    with pytest.raises(DecodeError) as error:
        JSON.decode(b'{"Id":1,"ExchangeRate":1,"Color":0,"BillToAddress":[]}', ProbeOrder)
    assert error.value.field == "BillToAddress"
    xml = HEAD + "<Id>1</Id><ExchangeRate>1</ExchangeRate><Color>Red</Color>"
    xml += "<BillToAddress><ZipCode>x</ZipCode></BillToAddress></ProbeOrder>"
    with pytest.raises(DecodeError) as error:
        XML.decode(xml.encode(), ProbeOrder)
    assert error.value.field == "BillToAddress.ZipCode"


def test_nested_validation_names_the_path() -> None:
    o = order(bill_to_address=ProbeAddress(city="x" * 11))
    [error] = field_errors(o)
    assert error.field == "BillToAddress.City"
    assert "maximum is 10" in error.message
    assert not is_valid(o)
    with pytest.raises(ValidationError, match=r"BillToAddress\.City"):
        validate(o)
    [wrong] = field_errors(order(bill_to_address=ProbeOrderRow(id=1)))
    assert (wrong.field, wrong.message) == (
        "BillToAddress",
        "must be a ProbeAddress, not ProbeOrderRow",
    )


def test_the_two_orders_hold_inside_nested_models() -> None:
    """Json.NET: derived members first; XmlSerializer: base first, nested ones alike."""
    o = ProbeOrderChanges(
        id=1,
        exchange_rate=Decimal(1),
        color=ProbeColor.Green,
        note="n",
        ship_to_address=ProbeAddress(zip_code=5),
    )
    text = json_of(o)
    assert text.startswith('{"Note":"n","ShipToAddress":{"City":null,"ZipCode":5,')
    xml = xml_of(o)
    assert xml.index("<Id>") < xml.index("<Note>") < xml.index("<ShipToAddress>")


# -- lists -----------------------------------------------------------------------------------


def test_lists_on_the_wire() -> None:
    """XmlSerializer names members after their type: ``<int>``, ``<string>``,
    ``<decimal>``, ``<boolean>``, ``<dateTime>``, and a model's class name; a null string
    member is nil; an empty list is an empty element; a null list is left out."""
    o = order(
        order_rows=(ProbeOrderRow(id=2, quantity=Decimal("1.0")),),
        children=(1, 2),
        shipper_tracking_url=("a", None, ""),
        prices=(),
        flags=(True, False),
        dates=(datetime(2026, 1, 1, tzinfo=UTC),),
    )
    xml = xml_of(o)
    assert (
        "<OrderRows><ProbeOrderRow><Id>2</Id><Quantity>1.0</Quantity></ProbeOrderRow></OrderRows>"
        "<Children><int>1</int><int>2</int></Children>"
        '<ShipperTrackingUrl><string>a</string><string xsi:nil="true" /><string />'
        "</ShipperTrackingUrl>"
        "<Prices /><Flags><boolean>true</boolean><boolean>false</boolean></Flags>"
        "<Dates><dateTime>2026-01-01T00:00:00Z</dateTime></Dates>"
        '<Status xsi:nil="true" /></ProbeOrder>'
    ) in xml
    text = json_of(o)
    assert (
        '"OrderRows":[{"Id":2,"Quantity":1.0,"Text":null,"DeliveryAddress":null,"Kind":null}],'
        '"Children":[1,2],"ShipperTrackingUrl":["a",null,""],"Prices":[],"Flags":[true,false],'
        '"Dates":["2026-01-01T00:00:00Z"],"Status":null}'
    ) in text
    assert "Children" not in xml_of(order())
    assert '"Children":null' in json_of(order())
    for codec in (JSON, XML):
        back = codec.decode(codec.encode(o), ProbeOrder)
        assert back == o
        assert type(back.children) is tuple


def test_a_list_given_as_a_python_list_is_written_as_a_tuple_would_be() -> None:
    as_list = order(children=[1, 2])
    as_tuple = order(children=(1, 2))
    assert field_errors(as_list) == []
    assert JSON.encode(as_list) == JSON.encode(as_tuple)
    assert XML.encode(as_list) == XML.encode(as_tuple)


def test_list_decode_errors_name_the_member() -> None:
    rows = b'[{"Id":1,"Quantity":1},{"Id":2,"Quantity":1},{"Id":3,"Quantity":"x"}]'
    with pytest.raises(DecodeError) as error:
        JSON.decode(b'{"Id":1,"ExchangeRate":1,"Color":0,"OrderRows":%s}' % rows, ProbeOrder)
    assert error.value.field == "OrderRows[2].Quantity"
    with pytest.raises(DecodeError) as error:
        JSON.decode(b'{"Id":1,"ExchangeRate":1,"Color":0,"Children":[1,null]}', ProbeOrder)
    assert error.value.field == "Children[1]"
    with pytest.raises(DecodeError) as error:
        JSON.decode(b'{"Id":1,"ExchangeRate":1,"Color":0,"Children":{}}', ProbeOrder)
    assert error.value.field == "Children"
    xml = HEAD + "<Id>1</Id><ExchangeRate>1</ExchangeRate><Color>Red</Color><OrderRows>"
    xml += "<ProbeOrderRow><Id>1</Id></ProbeOrderRow><ProbeOrderRow><Id>x</Id></ProbeOrderRow>"
    with pytest.raises(DecodeError) as error:
        XML.decode((xml + "</OrderRows></ProbeOrder>").encode(), ProbeOrder)
    assert error.value.field == "OrderRows[1].Id"


def test_xml_list_skips_members_of_another_name_as_xmlserializer_does() -> None:
    """Mono's XmlSerializer read ``<Children><int>1</int><long>2</long><int>3</int>`` as
    ``[1, 3]``; a nil member of a list of strings is ``None``."""
    xml = HEAD + "<Id>1</Id><ExchangeRate>1</ExchangeRate><Color>Red</Color>"
    xml += "<Children><int>1</int><long>2</long><int>3</int></Children>"
    xml += '<ShipperTrackingUrl><string xsi:nil="true" /></ShipperTrackingUrl></ProbeOrder>'
    got = XML.decode(xml.encode(), ProbeOrder)
    assert got.children == (1, 3)
    assert got.shipper_tracking_url == (None,)


def test_list_validation_names_the_member() -> None:
    rows = tuple(ProbeOrderRow(id=i, quantity=Decimal(1)) for i in range(2))
    bad = (*rows, ProbeOrderRow(id=3, quantity=Decimal(1), text="x" * 21))
    errors = field_errors(order(order_rows=bad, children=(1, None, 2**31)))
    assert [e.field for e in errors] == ["OrderRows[2].Text", "Children[1]", "Children[2]"]
    assert not is_valid(order(order_rows=bad))
    assert not is_valid(order(children=(1, None)))
    assert field_errors(order(shipper_tracking_url=(None, "a"))) == []
    [wrong] = field_errors(order(children=5))
    assert (wrong.field, wrong.message) == ("Children", "must be a tuple, not int")


def test_list_and_model_fields_refuse_what_is_no_kind() -> None:
    with pytest.raises(ConfigurationError, match="no list of 'float'"):
        list_field("X", "float")
    with pytest.raises(ConfigurationError, match="is not a model"):
        list_field("X", int)
    with pytest.raises(ConfigurationError, match="is not a model"):
        model_field("X", dict)


# -- coded integers ---------------------------------------------------------------------------


def test_a_coded_integer_is_digits_in_both_formats() -> None:
    """An ``int`` property: XmlSerializer writes its digits (never a name, as it does for
    an enum), Json.NET its number; a member and its plain int write alike."""
    for status in (ProbeStatus.Shipped, 2):
        assert json_of(order(status=status)).endswith(',"Status":2}')
        assert xml_of(order(status=status)).endswith("<Status>2</Status></ProbeOrder>")
    assert xml_of(order(status=None)).endswith('<Status xsi:nil="true" /></ProbeOrder>')
    row = ProbeOrderRow(id=1, kind=ProbeStatus.Open)
    assert '"Kind":1}' in json_of(order(order_rows=(row,)))
    assert "<Kind>1</Kind></ProbeOrderRow>" in xml_of(order(order_rows=(row,)))


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_coded_integer_reads_as_its_member_and_keeps_a_value_it_does_not_name(
    fmt: str,
) -> None:
    """A named value is read as the member; any other int32 stays a plain int and is
    written back as it came (the server adds values: the set is open)."""
    codec: Any = JSON if fmt == "json" else XML
    for value, expected_type in [(2, ProbeStatus), (99, int), (-(2**31), int)]:
        read = codec.decode(codec.encode(order(status=value)), ProbeOrder)
        assert read.status == value
        assert type(read.status) is expected_type
        assert codec.encode(read) == codec.encode(order(status=value))
    assert codec.decode(codec.encode(order()), ProbeOrder).status is None


def test_a_coded_integer_refuses_what_no_net_int_is() -> None:
    """Read: a name, a string, or a value past int32 is a DecodeError naming the field.
    Written: validation names it too, and the codecs refuse another type (a range is
    validation's, as for a plain int)."""
    for body in (b'"Shipped"', b'"2"', b"2147483648", b"true"):
        with pytest.raises(DecodeError) as error:
            JSON.decode(b'{"Id":1,"ExchangeRate":1,"Color":0,"Status":%s}' % body, ProbeOrder)
        assert error.value.field == "Status"
    for text in ("Shipped", "2147483648", "2.0"):
        xml = HEAD + "<Id>1</Id><ExchangeRate>1</ExchangeRate><Color>Red</Color>"
        xml += f"<Status>{text}</Status></ProbeOrder>"
        with pytest.raises(DecodeError) as error:
            XML.decode(xml.encode(), ProbeOrder)
        assert error.value.field == "Status"
    for bad, message in [
        (True, "must be a ProbeStatus or an int, not bool"),
        ("Shipped", "must be a ProbeStatus or an int, not str"),
        (2**31, "outside the 32-bit range"),
    ]:
        [problem] = field_errors(order(status=bad))
        assert problem.field == "Status"
        assert message in problem.message
        assert not is_valid(order(status=bad))
        with pytest.raises(ValidationError, match="Status"):
            validate(order(status=bad))
        if not isinstance(bad, int) or isinstance(bad, bool):  # no codec writes another type
            with pytest.raises(ValidationError, match="Status"):
                JSON.encode(order(status=bad))
            with pytest.raises(ValidationError, match="Status"):
                XML.encode(order(status=bad))
    assert field_errors(order(status=ProbeColor.Green)) == []  # an int is an int


# -- every kind round-trips ----------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["json", "xml"]), st.data())
def test_every_kind_round_trips(fmt: Any, data: st.DataObject) -> None:
    """Every probe, with every kind, decodes back to itself in the format it was made for."""
    cls = data.draw(st.sampled_from([ProbeAddress, ProbeOrderRow, ProbeOrder, ProbeOrderChanges]))
    value = data.draw(strategies.instances(cls, fmt))
    assert is_valid(value)
    assert field_errors(value, fmt=fmt) == []
    codec = JSON if fmt == "json" else XML
    back: Any = codec.decode(codec.encode(value), cls)
    assert back == value
    assert codec.encode(back) == codec.encode(value)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_is_valid_agrees_with_field_errors_on_every_kind(data: st.DataObject) -> None:
    """The generated check and the explainer come from the same table entries."""
    cls = data.draw(st.sampled_from([ProbeOrder, ProbeOrderChanges, ProbeOrderRow]))
    value, bad = data.draw(strategies.instances_with_errors(cls))
    errors = field_errors(value)
    assert is_valid(value) is (not errors)
    assert {e.field.split(".")[0].split("[")[0] for e in errors} == set(bad)
