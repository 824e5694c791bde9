"""The resource descriptions refuse to be wrong: a bad one fails at import, not in use."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shopapi import MessageChanges, MessageConversation, MessageConversationChanges
from shopapi._resources import RESOURCES
from shopapi._resources.spec import Endpoint, Key, Paging, PathParam, Resource, Role

SHOP = PathParam(wire="shopId", name="shop_id")
ONE = PathParam(wire="id", name="item_id")


def _endpoint(**overrides: Any) -> Endpoint:
    values: dict[str, Any] = {
        "name": "update",
        "role": Role.UPDATE,
        "method": "PUT",
        "path": "v1/Shops/{shopId}/MessageConversations/{id}",
        "params": (SHOP, ONE),
        "body": MessageConversationChanges,
        "answer": MessageConversation,
        "keys": (Key("shop_id", "shop_id"), Key("id", "item_id")),
        "collection": "conversations",
        "summary": "s",
    }
    values.update(overrides)
    return Endpoint(**values)


def test_a_well_formed_description_is_accepted() -> None:
    endpoint = _endpoint()
    assert endpoint.idempotent
    assert not endpoint.many


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"params": (SHOP,)}, "placeholders"),
        ({"params": (ONE, SHOP)}, "placeholders"),
        ({"path": "v1/Shops/{shopId}/X/{*id}"}, "placeholders"),
        ({"path": "v1/Shops/{shopId}/X/{id}?pageSize"}, "query"),
        ({"keys": (Key("shop_id", "shop"),)}, "names no path parameter"),
        ({"keys": (Key("shopid", "shop_id"),)}, "is no field"),
        ({"role": Role.GET, "body": MessageConversationChanges}, "take a body"),
        ({"role": Role.INSERT}, "insert_id"),
        ({"insert_id": "id"}, "insert_id"),
        ({"paging": Paging()}, "only a list pages"),
        (
            {"role": Role.INSERT, "body": MessageChanges, "keys": (), "insert_id": "nope"},
            "no body field",
        ),
    ],
)
def test_a_malformed_description_fails_when_made(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _endpoint(**overrides)


def test_a_path_parameter_name_is_a_python_keyword() -> None:
    with pytest.raises(ValueError, match="snake_case"):
        PathParam(wire="shopId", name="shopId")


def test_an_insert_is_never_idempotent_whatever_its_verb() -> None:
    """``PUT v1/Shops/{shopId}/Ticket`` adds a ticket: the role decides, not the verb."""
    ticket = Endpoint(
        name="open_ticket",
        role=Role.INSERT,
        method="PUT",
        path="v1/Shops/{shopId}/Ticket",
        params=(SHOP,),
        body=MessageChanges,
        insert_id="id",
        collection="tickets",
        summary="Add a new ticket.",
    )
    assert not ticket.idempotent


def test_the_conversation_endpoints_are_the_documented_paths() -> None:
    (resource,) = [r for r in RESOURCES if r.name == "message_conversations"]
    table = {(e.method, e.path, e.documented) for e in resource.endpoints}
    base = "v1/Shops/{shopId}/MessageConversations"
    assert table == {
        ("GET", base, True),
        ("GET", base + "/{messageConversationId}", False),
        ("PUT", base + "/{messageConversationId}", True),
        ("GET", base + "/{messageConversationId}/Messages", True),
        ("POST", base + "/{messageConversationId}/Messages", True),
    }
    assert resource.endpoint("post_message").idempotent is False
    assert [e.name for e in resource.by_role(Role.LIST)] == ["list", "messages"]
    with pytest.raises(KeyError):
        resource.endpoint("delete")


def test_resource_names_and_method_names_are_unique() -> None:
    assert len({r.name for r in RESOURCES}) == len(RESOURCES)
    assert len({r.cli for r in RESOURCES}) == len(RESOURCES)


def test_the_shop_group_endpoints_are_the_documented_paths() -> None:
    (resource,) = [r for r in RESOURCES if r.name == "shop_groups"]
    table = {(e.method, e.path, e.role, e.answer is None) for e in resource.endpoints}
    assert table == {
        ("POST", "v1/ShopGroups", Role.INSERT, False),
        ("PUT", "v1/ShopGroups", Role.UPDATE, True),
        ("GET", "v1/ShopGroups/{shopGroupId}/RootProductGroups", Role.LIST, False),
    }
    assert all(e.documented and e.paging is None for e in resource.endpoints)


def test_every_endpoint_method_exists_on_its_resource_class() -> None:
    """``Resource.methods`` must have each endpoint's method, ``{name}_page`` for a paged
    list and ``{name}_many`` for an update or insert; a missing one fails when made."""
    for resource in RESOURCES:
        for endpoint in resource.endpoints:
            for method in endpoint.methods():
                assert callable(getattr(resource.methods, method))
    update = _endpoint()
    assert update.methods() == ("update", "update_many")

    class Incomplete:
        def update(self) -> None: ...

    with pytest.raises(ValueError, match="Incomplete has no update_many"):
        Resource(name="x", cli="x", endpoints=(update,), methods=Incomplete)


def test_the_path_parameters_no_key_carries_are_given_to_many() -> None:
    (conversations,) = [r for r in RESOURCES if r.name == "message_conversations"]
    assert conversations.endpoint("update").given_params() == ()
    assert [p.name for p in conversations.endpoint("post_message").given_params()] == ["shop_id"]


def test_a_catch_all_parameter_is_a_str_code() -> None:
    with pytest.raises(ValueError, match="catch-all"):
        _endpoint(
            role=Role.GET,
            method="GET",
            path="v1/Shops/{shopId}/X/{*id}",
            params=(SHOP, PathParam(wire="id", name="item_id", catch_all=True)),
            body=None,
            keys=(),
        )


def test_an_insert_without_insert_id_only_where_its_page_is_cut_before_any_id() -> None:
    """``POST v1/Shops`` and the ticket's PUT are cut off before any ``Id`` shows: they
    check no id (nothing is invented), yet stay inserts, never retried blindly. A whole
    page, or a body that does show ``id``, must name its ``insert_id``."""
    from shopapi import TicketChanges

    ticket = {
        "name": "insert",
        "role": Role.INSERT,
        "method": "PUT",
        "path": "v1/Shops/{shopId}/Ticket",
        "params": (SHOP,),
        "body": TicketChanges,
        "answer": None,
        "keys": (Key("shop_id", "shop_id"),),
        "collection": "tickets",
    }
    made = _endpoint(**ticket, partial=True)
    assert made.insert_id is None
    assert not made.idempotent
    with pytest.raises(ValueError, match="whole has insert_id"):
        _endpoint(**ticket)
    with pytest.raises(ValueError, match="shows an id field"):
        _endpoint(**{**ticket, "body": MessageChanges, "keys": ()}, partial=True)


def _index_endpoints() -> set[tuple[str, str]]:
    """(method, path) of every row of spec/help/INDEX.md's endpoint table, the query
    and notes cut off."""
    index = Path(__file__).resolve().parents[1] / "spec" / "help" / "INDEX.md"
    rows = re.findall(r"^\| \d+ \| (GET|PUT|POST|DELETE) \| ([^|]+) \|", index.read_text(), re.M)
    return {(method, re.split(r"[ ?]", path.strip())[0]) for method, path in rows}


def test_every_endpoint_of_the_index_has_a_client_method_and_a_fake_route() -> None:
    """All 33 pages of spec/help/INDEX.md (rows 21 and 22 are one path, two versions),
    with their paths exactly as documented: ``ShopGroup`` singular, ``{*code}``."""
    from shopapi import ShopApiClient
    from shopapi.testing._routes import Matched, Routes

    documented = _index_endpoints()
    assert len(documented) == 32
    assert ("GET", "v1/ShopGroup/{shopGroupId}/Products") in documented
    assert ("GET", "v1/ShopGroups/{shopGroupId}/ShopProductByCode/{*code}") in documented
    described = {(e.method, e.path): (r, e) for r in RESOURCES for e in r.endpoints}
    assert documented <= set(described)
    assert {k for k, (_, e) in described.items() if e.documented} == documented
    client = ShopApiClient("http://127.0.0.1:1", auth=("u", "p"))
    routes = Routes(RESOURCES)
    for method, path in documented:
        resource, endpoint = described[(method, path)]
        assert callable(getattr(getattr(client, resource.name), endpoint.name))
        concrete = "/" + re.sub(r"\{\*?[A-Za-z]+\}", "7", path)
        found = routes.match(method, concrete)
        assert isinstance(found, Matched), (method, path)
        assert found.endpoint is endpoint
