"""build_request, render_path, render_query, check_answer, answer_type: every endpoint
rendered and checked from its description alone (pure, no event loop)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shopapi import (
    ConfigurationError,
    JsonCodec,
    MessageBasicInfo,
    MessageChanges,
    MessageConversation,
    MessageConversationBasicInfo,
    ProductGroupBasicInfo,
    ResponseMismatchError,
    ShopGroup,
    ShopGroupChanges,
    Timestamp,
    ValidationError,
    XmlCodec,
)
from shopapi._protocol.requests import (
    answer_type,
    build_request,
    check_answer,
    read_answer,
    render_path,
    render_query,
)
from shopapi._resources import message_conversations, shop_groups
from shopapi._resources.spec import Endpoint, Paging, PathParam, QueryKind, QueryParam, Role
from shopapi.codecs import default_registry

BASE = "http://127.0.0.1:9/"
CONVERSATIONS = message_conversations.RESOURCE
GROUPS = shop_groups.RESOURCE
LIST = CONVERSATIONS.endpoint("list")
GET = CONVERSATIONS.endpoint("get")
UPDATE = CONVERSATIONS.endpoint("update")
MESSAGES = CONVERSATIONS.endpoint("messages")
POST = CONVERSATIONS.endpoint("post_message")

#: ``GET v1/ShopGroups/{shopGroupId}/ShopProductByCode/{*code}``, as its help page
#: describes it (a catch-all code), answered here as product groups: only its path
#: matters to these tests.
BY_CODE = Endpoint(
    name="by_code",
    role=Role.GET,
    method="GET",
    path="v1/ShopGroups/{shopGroupId}/ShopProductByCode/{*code}",
    params=(
        PathParam(wire="shopGroupId", name="shop_group_id"),
        PathParam(wire="code", name="code", type=str, catch_all=True),
    ),
    answer=ProductGroupBasicInfo,
    collection="products",
    summary="s",
)
ONE_CODE = Endpoint(
    name="by_code",
    role=Role.GET,
    method="GET",
    path="v1/Shops/{shopId}/Orders/{orderCode}",
    params=(
        PathParam(wire="shopId", name="shop_id"),
        PathParam(wire="orderCode", name="order_code", type=str),
    ),
    answer=ProductGroupBasicInfo,
    collection="orders",
    summary="s",
)
#: A paged list with every kind of filter (the Orders and Parcels lists' names).
FILTERED = Endpoint(
    name="orders",
    role=Role.LIST,
    method="GET",
    path="v1/Shops/{shopId}/Orders",
    params=(PathParam(wire="shopId", name="shop_id"),),
    query=(
        QueryParam(wire="fromDateChanged", name="from_date_changed", kind=QueryKind.DATE),
        QueryParam(wire="mainStatusId", name="main_status_id", kind=QueryKind.INT),
        QueryParam(wire="emailAddress", name="email_address", kind=QueryKind.STR),
        QueryParam(wire="parcelStatusId", name="parcel_status_id", kind=QueryKind.IDS),
        QueryParam(wire="published", name="published", kind=QueryKind.BOOL),
    ),
    paging=Paging(size=1000),
    answer=ProductGroupBasicInfo,
    collection="orders",
    summary="s",
)


def message(**kw: object) -> MessageChanges:
    values: dict[str, object] = {
        "id": 0,
        "message_conversation_id": 5,
        "message_sender_enum_value": 0,
        "type_enum_value": 0,
        "body": "hi",
    }
    values.update(kw)
    return MessageChanges(**values)  # type: ignore[arg-type]


def group(**kw: object) -> ShopGroupChanges:
    values: dict[str, object] = {"id": 0, "name": "North", "shop_owner_id": 3}
    values.update(kw)
    return ShopGroupChanges(**values)  # type: ignore[arg-type]


# -- paths --------------------------------------------------------------------------------


def test_every_path_comes_from_the_template() -> None:
    assert render_path(LIST, (7,)) == "v1/Shops/7/MessageConversations"
    assert render_path(MESSAGES, (7, 5)) == "v1/Shops/7/MessageConversations/5/Messages"
    assert render_path(GROUPS.endpoint("insert"), ()) == "v1/ShopGroups"
    roots = GROUPS.endpoint("root_product_groups")
    assert render_path(roots, (4,)) == "v1/ShopGroups/4/RootProductGroups"


def test_a_str_code_is_one_encoded_segment() -> None:
    assert render_path(ONE_CODE, (1, "A-1")) == "v1/Shops/1/Orders/A-1"
    assert render_path(ONE_CODE, (1, "a/b c?#%")) == "v1/Shops/1/Orders/a%2Fb%20c%3F%23%25"
    assert render_path(ONE_CODE, (1, "Ü")) == "v1/Shops/1/Orders/%C3%9C"


def test_a_catch_all_code_keeps_its_slashes_between_encoded_segments() -> None:
    assert (
        render_path(BY_CODE, (2, "shoes/red shoe?"))
        == "v1/ShopGroups/2/ShopProductByCode/shoes/red%20shoe%3F"
    )


@pytest.mark.parametrize(
    "bad", ["", ".", "..", "a//b", "/".join(["a", "..", "b"]), "a/", 5, None, b"x"]
)
def test_a_code_that_could_change_the_path_is_refused(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        render_path(BY_CODE, (2, bad))
    assert info.value.fields == ("code",)


def test_the_path_needs_one_value_per_parameter() -> None:
    with pytest.raises(ConfigurationError, match="takes 2 path parameters, got 1"):
        render_path(UPDATE, (7,))


def test_a_bad_id_names_its_wire_name() -> None:
    with pytest.raises(ValidationError) as info:
        render_path(UPDATE, (7, -1))
    assert info.value.fields == ("messageConversationId",)


def test_a_label_defaults_to_the_words_of_the_wire_name() -> None:
    assert PathParam(wire="shopGroupId", name="shop_group_id").label == "shop group"
    assert PathParam(wire="shopId", name="shop_id").label == "shop"


# -- queries ------------------------------------------------------------------------------


def test_a_paged_list_sends_its_documented_page_defaults() -> None:
    assert render_query(LIST) == "pageSize=100&pageNumber=1"
    assert render_query(FILTERED) == "pageSize=1000&pageNumber=1"
    request = build_request(LIST, BASE, JsonCodec(), path=(7,), page_number=3, page_size=20)
    assert request.path == "v1/Shops/7/MessageConversations?pageSize=20&pageNumber=3"
    assert request.body is None
    assert "Content-Type" not in request.headers


def test_only_the_filters_given_are_sent_in_the_declared_order() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    query = {
        "published": False,
        "parcel_status_id": (1, 3),
        "email_address": "a+b@x.nl",
        "main_status_id": None,
        "from_date_changed": when,
    }
    assert render_query(FILTERED, query, page_number=2) == (
        "fromDateChanged=2026-01-02T03%3A04%3A05%2B02%3A00&emailAddress=a%2Bb%40x.nl"
        "&parcelStatusId=1,3&published=false&pageSize=1000&pageNumber=2"
    )
    assert render_query(FILTERED, {"main_status_id": 0}).startswith("mainStatusId=0&")


@pytest.mark.parametrize(
    ("name", "value", "wire"),
    [
        ("main_status_id", "1", "mainStatusId"),
        ("main_status_id", True, "mainStatusId"),
        ("main_status_id", 2**31, "mainStatusId"),
        ("email_address", 5, "emailAddress"),
        ("published", 1, "published"),
        ("parcel_status_id", "1,3", "parcelStatusId"),
        ("parcel_status_id", [], "parcelStatusId"),
        ("parcel_status_id", [1, -3], "parcelStatusId"),
        ("from_date_changed", datetime(2026, 1, 1), "fromDateChanged"),
        ("from_date_changed", "2026-01-01", "fromDateChanged"),
    ],
)
def test_a_bad_filter_value_names_the_filter(name: str, value: object, wire: str) -> None:
    with pytest.raises(ValidationError) as info:
        render_query(FILTERED, {name: value})
    assert info.value.fields == (wire,)


def test_a_timestamp_of_unspecified_kind_is_a_valid_date_filter() -> None:
    naive = Timestamp.from_datetime(datetime(2026, 1, 1, 12))
    assert render_query(FILTERED, {"from_date_changed": naive}).startswith(
        "fromDateChanged=2026-01-01T12%3A00%3A00&"
    )
    aware = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert render_query(FILTERED, {"from_date_changed": aware}).startswith(
        "fromDateChanged=2026-01-01T12%3A00%3A00Z&"
    )


def test_an_unknown_filter_or_paging_an_unpaged_endpoint_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no filter status"):
        render_query(FILTERED, {"status": 1})
    with pytest.raises(ConfigurationError, match="does not page"):
        render_query(GET, page_number=2)
    with pytest.raises(ConfigurationError, match="does not page"):
        build_request(GROUPS.endpoint("root_product_groups"), BASE, JsonCodec(), path=(1,),
                      page_size=5)  # fmt: skip


@pytest.mark.parametrize("bad", [0, -1, True, "1"])
def test_page_parameters_are_checked(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        render_query(LIST, page_number=bad)  # type: ignore[arg-type]
    assert info.value.fields == ("pageNumber",)


# -- bodies -------------------------------------------------------------------------------


def test_an_insert_must_have_id_0_and_its_key_must_match_the_url() -> None:
    with pytest.raises(ValidationError) as info:
        build_request(
            POST, BASE, JsonCodec(), path=(7, 5), body=message(id=4, message_conversation_id=3)
        )
    assert [str(e) for e in info.value.errors] == [
        "Id: is 4; a new message must have Id 0",
        "MessageConversationId: is 3 but the URL names conversation 5",
    ]
    with pytest.raises(ValidationError, match="a new shop group must have Id 0"):
        build_request(GROUPS.endpoint("insert"), BASE, JsonCodec(), body=group(id=9))


def test_an_insert_is_idempotent_only_with_allow_duplicates() -> None:
    xml_message = message(message_sender_enum_value="Bot", type_enum_value="Text")
    post = build_request(POST, BASE, XmlCodec(), path=(7, 5), body=xml_message)
    assert post.method == "POST"
    assert post.path == "v1/Shops/7/MessageConversations/5/Messages"
    assert not post.idempotent
    assert post.body is not None
    assert post.body.startswith(b"<MessageChanges ")
    again = build_request(
        POST, BASE, XmlCodec(), path=(7, 5), body=xml_message, allow_duplicates=True
    )
    assert again.idempotent
    insert = GROUPS.endpoint("insert")
    assert not build_request(insert, BASE, JsonCodec(), body=group()).idempotent
    assert build_request(GROUPS.endpoint("update"), BASE, JsonCodec(), body=group(id=4)).idempotent


def test_a_body_is_refused_where_none_is_taken_and_required_where_one_is() -> None:
    with pytest.raises(ConfigurationError, match="takes no body"):
        build_request(GET, BASE, JsonCodec(), path=(7, 5), body=message())
    with pytest.raises(ValidationError, match="expected ShopGroupChanges, got NoneType"):
        build_request(GROUPS.endpoint("update"), BASE, JsonCodec())
    with pytest.raises(ValidationError, match="expected MessageChanges, got ShopGroupChanges"):
        build_request(POST, BASE, JsonCodec(), path=(7, 5), body=group())


def test_a_shop_group_update_needs_its_id_and_name() -> None:
    update = GROUPS.endpoint("update")
    with pytest.raises(ValidationError) as info:
        build_request(update, BASE, JsonCodec(), body=group(id=None, name=None, shop_owner_id=None))
    assert info.value.fields == ("Id", "Name", "ShopOwnerId")
    with pytest.raises(ValidationError) as info:
        build_request(update, BASE, JsonCodec(), body=group(id=4, name="x" * 51))
    assert info.value.fields == ("Name",)
    request = build_request(update, BASE, JsonCodec(), body=group(id=4, icon_file_id=2))
    assert request.method == "PUT"
    assert request.path == "v1/ShopGroups"
    # Json.NET writes the derived class's IconFileId first, as the help page's sample.
    assert request.body == b'{"IconFileId":2,"Id":4,"Name":"North","ShopOwnerId":3}'
    xml = build_request(update, BASE, XmlCodec(), body=group(id=4, icon_file_id=2)).body
    assert xml is not None
    assert (
        b"<Id>4</Id><Name>North</Name><ShopOwnerId>3</ShopOwnerId><IconFileId>2</IconFileId>" in xml
    )


# -- answers ------------------------------------------------------------------------------


def basic(cid: int, shop: int) -> MessageConversationBasicInfo:
    return MessageConversationBasicInfo(id=cid, shop_id=shop, platform_kind_enum_value=0)


def msg(mid: int, conversation: int) -> MessageBasicInfo:
    return MessageBasicInfo(
        id=mid, message_conversation_id=conversation, message_sender_enum_value=0, type_enum_value=0
    )


def test_every_item_of_a_list_is_held_to_the_keys() -> None:
    check = check_answer(LIST, (7,))
    assert check is not None
    check([basic(1, 7), basic(2, 7)])
    with pytest.raises(ResponseMismatchError, match=r"asked for shop 7, item \[1\] is in shop 9"):
        check([basic(1, 7), basic(2, 9)])
    messages = check_answer(MESSAGES, (7, 5))
    assert messages is not None
    with pytest.raises(ResponseMismatchError, match=r"item \[0\] is in conversation 6"):
        messages([msg(1, 6)])


def test_a_single_answer_is_held_to_every_key() -> None:
    check = check_answer(UPDATE, (7, 42))
    assert check is not None
    saved = MessageConversation(id=42, shop_id=7, platform_kind_enum_value=0)
    check(saved)
    with pytest.raises(ResponseMismatchError) as info:
        check(MessageConversation(id=42, shop_id=8, platform_kind_enum_value=0))
    assert str(info.value) == (
        "asked to update conversation 42 in shop 7, the answer names conversation 42 in shop 8"
    )
    posted = check_answer(POST, (7, 5))
    assert posted is not None
    with pytest.raises(
        ResponseMismatchError, match="posted to conversation 5, the answer names conversation 6"
    ):
        posted(msg(1, 6))


def test_an_endpoint_without_keys_or_answer_has_no_check() -> None:
    assert check_answer(GROUPS.endpoint("insert"), ()) is None
    assert check_answer(GROUPS.endpoint("update"), ()) is None
    assert check_answer(GROUPS.endpoint("root_product_groups"), (1,)) is None


def test_the_expected_answer_type_follows_the_role() -> None:
    assert answer_type(LIST) == list[MessageConversationBasicInfo]
    assert answer_type(GET) is MessageConversation
    assert answer_type(GROUPS.endpoint("insert")) is ShopGroup
    assert answer_type(GROUPS.endpoint("root_product_groups")) == list[ProductGroupBasicInfo]
    assert answer_type(GROUPS.endpoint("update")) is None


def test_an_answer_without_a_model_is_not_read() -> None:
    request = build_request(GROUPS.endpoint("update"), BASE, JsonCodec(), body=group(id=4))
    for body, content_type in [
        (b"", ""),
        (b"<html>OK</html>", "text/html"),
        (b"{", "application/json"),
    ]:
        value = read_answer(
            request,
            200,
            {"Content-Type": content_type} if content_type else {},
            body,
            codec=JsonCodec(),
            registry=default_registry(),
            expect=answer_type(GROUPS.endpoint("update")),
        )
        assert value is None
