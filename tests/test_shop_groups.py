"""client.shop_groups, the first resource added as one description file: its three
endpoints through the generic call, with aioresponses standing in for the server (the
fake server does not serve shop groups yet)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from aioresponses import CallbackResult

from shopapi import (
    JsonCodec,
    ProductGroupBasicInfo,
    RetryPolicy,
    ServerError,
    ShopApiClient,
    ShopGroup,
    ShopGroupChanges,
    ValidationError,
    XmlCodec,
)
from shopapi.codecs import Codec
from tests._aioresponses_compat import CompatResponse
from tests._aioresponses_compat import mock_api as aioresponses

BASE = "http://127.0.0.1:9"
GROUPS = f"{BASE}/v1/ShopGroups"
FAST = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002)


def group(**kw: Any) -> ShopGroupChanges:
    values: dict[str, Any] = {"id": 0, "name": "North", "shop_owner_id": 3}
    values.update(kw)
    return ShopGroupChanges(**values)


def client() -> ShopApiClient:
    return ShopApiClient(BASE, auth=("u", "p"), retry=FAST)


@pytest.mark.parametrize("codec", [JsonCodec(), XmlCodec()], ids=["json", "xml"])
async def test_insert_posts_the_changes_and_reads_the_shop_group(codec: Codec) -> None:
    seen: dict[str, Any] = {}

    def answer(url: Any, **kwargs: Any) -> CallbackResult:
        seen.update(kwargs)
        saved = ShopGroup(id=12, name="North", shop_owner_id=3, icon_file_id=None)
        return CallbackResult(
            status=200,
            body=codec.encode(saved),
            content_type=codec.media_type,
            response_class=CompatResponse,
        )

    with aioresponses() as mock:
        mock.post(GROUPS, callback=answer)
        async with ShopApiClient(BASE, auth=("u", "p"), retry=FAST, codec=codec) as api:
            saved = await api.shop_groups.insert(group())
    assert saved == ShopGroup(id=12, name="North", shop_owner_id=3)
    assert seen["data"] == codec.encode(group())
    headers = seen["headers"]
    assert isinstance(headers, Mapping)
    assert headers["Accept"] == codec.media_type


async def test_an_insert_is_not_retried_after_a_5xx_unless_duplicates_are_allowed() -> None:
    with aioresponses() as mock:
        mock.post(GROUPS, status=503, repeat=True)
        async with client() as api:
            with pytest.raises(ServerError) as info:
                await api.shop_groups.insert(group())
            assert info.value.attempts == 1
            with pytest.raises(ServerError) as info:
                await api.shop_groups.insert(group(), allow_duplicates=True)
            assert info.value.attempts == 3


async def test_an_insert_with_an_id_sends_nothing() -> None:
    with aioresponses() as mock:
        async with client() as api:
            with pytest.raises(ValidationError, match="a new shop group must have Id 0"):
                await api.shop_groups.insert(group(id=5))
        assert not mock.requests


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"", "application/json"), (b"<html>done</html>", "text/html"), (b"{}", "application/json")],
)
async def test_update_puts_the_body_and_does_not_read_the_answer(
    body: bytes, content_type: str
) -> None:
    """The help page documents ``HttpResponseMessage`` (the action's return type): no
    model, so whatever body a 2xx carries, the update's answer is ``None``."""
    with aioresponses() as mock:
        mock.put(GROUPS, status=200, body=body, content_type=content_type)
        async with client() as api:
            # mypy knows update() returns None; the run checks that it does, whatever the body.
            assert await api.shop_groups.update(group(id=4)) is None  # type: ignore[func-returns-value]
        ((method, url), calls) = next(iter(mock.requests.items()))
    assert method == "PUT"
    assert str(url) == GROUPS
    assert calls[0].kwargs["data"] == JsonCodec().encode(group(id=4))


async def test_an_update_is_retried_as_an_idempotent_put() -> None:
    with aioresponses() as mock:
        mock.put(GROUPS, status=503)
        mock.put(GROUPS, status=204)
        async with client() as api:
            # mypy knows update() returns None; the run checks that it does, whatever the body.
            assert await api.shop_groups.update(group(id=4)) is None  # type: ignore[func-returns-value]


async def test_root_product_groups_is_one_unpaged_list() -> None:
    roots = [
        ProductGroupBasicInfo(id=1, name="Shoes", nr_of_childs=2),
        ProductGroupBasicInfo(id=2, name=None, parent_product_group_id=None, nr_of_childs=0),
    ]
    for codec in (JsonCodec(), XmlCodec()):
        with aioresponses() as mock:
            mock.get(
                f"{GROUPS}/4/RootProductGroups",
                status=200,
                body=codec.encode(roots),
                content_type=codec.media_type,
            )
            async with ShopApiClient(BASE, retry=FAST, codec=codec) as api:
                assert await api.shop_groups.root_product_groups(4) == roots
            ((_, url),) = mock.requests
        assert url.query_string == ""  # unpaged, as documented: no pageSize


async def test_update_many_gives_one_result_per_item_and_invalid_ones_fail_alone() -> None:
    items = [group(id=1), group(id=2, name="x" * 51), group(id=3)]
    with aioresponses() as mock:
        mock.put(GROUPS, status=204, repeat=True)
        async with client() as api:
            results = [r async for r in api.shop_groups.update_many(items, concurrency=2)]
        ((_, _), calls) = next(iter(mock.requests.items()))
    assert sorted(r.index for r in results) == [0, 1, 2]
    by_index = {r.index: r for r in results}
    assert by_index[0].ok
    assert by_index[2].ok
    assert by_index[0].answer is None
    error = by_index[1].error
    assert isinstance(error, ValidationError)
    assert error.fields == ("Name",)
    assert len(calls) == 2


async def test_insert_many_answers_each_insert() -> None:
    def answer(url: Any, **kwargs: Any) -> CallbackResult:
        sent = JsonCodec().decode(kwargs["data"], ShopGroupChanges)
        saved = ShopGroup(id=100 + len(sent.name), name=sent.name, shop_owner_id=3)
        return CallbackResult(
            status=200, body=JsonCodec().encode(saved), response_class=CompatResponse
        )

    with aioresponses() as mock:
        mock.post(GROUPS, callback=answer, repeat=True)
        async with client() as api:
            items = [group(name="a" * n) for n in range(1, 6)]
            results = [r async for r in api.shop_groups.insert_many(items)]
    assert sorted((r.index, r.answer.id if r.answer else None) for r in results) == [
        (i, 101 + i) for i in range(5)
    ]
