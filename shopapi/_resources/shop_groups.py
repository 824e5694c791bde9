"""``v1/ShopGroups``: from ``spec/help/`` (POST and the RootProductGroups list as
api.demo.shopctrl.com shows them; PUT only on www.shopctrl.com). Order, kinds,
required-ness, nullability (from the samples) and lengths are the pages'; XML order
puts ``IconFileId`` last, Json.NET first, so it is a derived class's field."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Unpack, cast

import attrs

from .._wire.fields import Kind, WireSpec, _field, integer, keep_unknown, string
from .._wire.unknown import Unknown
from .api import BulkOptions, Caller, InsertOptions, Items
from .spec import Endpoint, PathParam, Resource, Role

if TYPE_CHECKING:
    from .._bulk import UpdateResult

__all__ = ["RESOURCE", "ProductGroupBasicInfo", "ShopGroup", "ShopGroupChanges", "ShopGroups"]

_NAME = WireSpec("Name", Kind.STR, required=True, max_length=50)


@attrs.frozen(kw_only=True)
class _ShopGroupChangesBase:
    id: int = integer("Id", required=True)  # PUT: "Required"; POST: "Must be 0"
    name: str = _field(_NAME)
    shop_owner_id: int = integer("ShopOwnerId", nullable=False, required=True)
    unknown: Unknown = keep_unknown()


@attrs.frozen(kw_only=True)
class ShopGroupChanges(_ShopGroupChangesBase):
    """The body of ``POST v1/ShopGroups`` (``id`` 0) and ``PUT v1/ShopGroups``."""

    icon_file_id: int | None = integer("IconFileId")


@attrs.frozen(kw_only=True)
class _ShopGroupBase:
    id: int | None = integer("Id")
    name: str = _field(_NAME)
    shop_owner_id: int = integer("ShopOwnerId", nullable=False, required=True)
    unknown: Unknown = keep_unknown()


@attrs.frozen(kw_only=True)
class ShopGroup(_ShopGroupBase):
    """A shop group, as ``POST v1/ShopGroups`` answers it."""

    icon_file_id: int | None = integer("IconFileId")


@attrs.frozen(kw_only=True)
class ProductGroupBasicInfo:
    """A product group, as ``GET v1/ShopGroups/{shopGroupId}/RootProductGroups`` lists it."""

    id: int = integer("Id", nullable=False, required=True)
    name: str | None = string("Name", 100)
    parent_product_group_id: int | None = integer("ParentProductGroupId")
    nr_of_childs: int | None = integer("NrOfChilds", nullable=False)
    unknown: Unknown = keep_unknown()


_ROOT = "v1/ShopGroups"
_INSERT = Endpoint(
    name="insert",
    role=Role.INSERT,
    method="POST",
    path=_ROOT,
    body=ShopGroupChanges,
    answer=ShopGroup,
    insert_id="id",
    collection="shop_groups",
    summary="Add a new ShopGroup for a ShopOwner.",
)
_UPDATE = Endpoint(
    name="update",
    role=Role.UPDATE,
    method="PUT",
    path=_ROOT,
    body=ShopGroupChanges,
    collection="shop_groups",
    summary="Update an existing ShopGroup.",
)
_ROOTS = Endpoint(
    name="root_product_groups",
    role=Role.LIST,
    method="GET",
    path=_ROOT + "/{shopGroupId}/RootProductGroups",
    params=(PathParam(wire="shopGroupId", name="shop_group_id"),),
    answer=ProductGroupBasicInfo,
    collection="product_groups",
    summary="Get a list with all Root Product groups, for given shop group.",
)


class ShopGroups:
    """``v1/ShopGroups``: reached as ``client.shop_groups``."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def insert(self, group: ShopGroupChanges, *, allow_duplicates: bool = False) -> ShopGroup:
        """``POST v1/ShopGroups``: add ``group`` (``id`` 0); retried as a post is."""
        call = self._caller.start(_INSERT, (), group, allow_duplicates=allow_duplicates)
        return cast(ShopGroup, await call)

    async def update(self, group: ShopGroupChanges) -> None:
        """``PUT v1/ShopGroups``: save ``group``. Its documented answer is ASP.NET's
        ``HttpResponseMessage``, no model: a 2xx is the answer, its body is not read."""
        await self._caller.start(_UPDATE, (), group)

    async def root_product_groups(self, shop_group_id: int) -> list[ProductGroupBasicInfo]:
        """``GET v1/ShopGroups/{shopGroupId}/RootProductGroups``: one unpaged list."""
        return cast(list[ProductGroupBasicInfo], await self._caller.start(_ROOTS, (shop_group_id,)))

    def insert_many(
        self, items: Items[ShopGroupChanges], **options: Unpack[InsertOptions]
    ) -> AsyncGenerator[UpdateResult[ShopGroupChanges, ShopGroup], None]:
        """:meth:`insert` each item, as ``update_many`` does: one result per item."""
        return self._caller.many(_INSERT, items, **options)

    def update_many(
        self, items: Items[ShopGroupChanges], **options: Unpack[BulkOptions]
    ) -> AsyncGenerator[UpdateResult[ShopGroupChanges, None], None]:
        """:meth:`update` each item, as ``update_many`` does: one result per item."""
        return self._caller.many(_UPDATE, items, **options)


RESOURCE = Resource(
    name="shop_groups", cli="shop-groups", endpoints=(_INSERT, _UPDATE, _ROOTS), methods=ShopGroups
)
